"""The motion prior of the synthetic generator: joint angles with anatomical limits, smooth
trajectories in that space, movement families on top, and transitions between them.

A clip is built in three steps (:func:`generate_motion`):

1. **Segments.** The clip's time is split into one to three segments; the first belongs to the
   clip's family, the others to any allowed family. Each segment's family function returns, for
   the whole clip, joint angles ``pose`` (T, 17, 3) in degrees and the root's motion (heading
   rate, tilts, velocity in the heading frame, flights).
2. **Blending.** Segments are cross-faded with minimum-jerk weights over 0.4-0.8 s, and smooth
   band-limited noise (amplitudes and bandwidths drawn per clip) is added to every angle. The
   angles then pass through the joints' anatomical limits (:data:`LIMITS`; a smooth clamp, so
   trajectories stay smooth at the limit).
3. **Placement.** Forward kinematics, then the root: heading integrated (steered back towards the
   capture area when walking out of it), horizontal velocity integrated, supporting points kept in
   place where the segment stands still, and the lowest body surface on the floor (z = 0) except
   during flights, which follow a ballistic arc.

Angles ``pose[:, j]`` are anatomical, per joint j (the joint that ends bone ``parent -> j``):
component 0 abduction (hips, shoulders), lateral bend (spine, neck; positive to the right) or
elevation (clavicles); component 1 flexion (forward for hips, spine, neck, shoulders and elbows,
backward for knees); component 2 twist about the bone (protraction for clavicles). Knees and
elbows are hinges (flexion only).
"""
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from .body import NUM_JOINTS, euler_zyx, forward_kinematics, rotation_matrix

__all__ = ['FAMILIES', 'KINDS', 'LIMITS', 'FPS', 'generate_motion', 'apply_limits', 'min_jerk',
           'keyframes', 'smooth_noise', 'own_family_frames']

FPS = 50
GRAVITY = 9810.0  # mm / s^2
ABD, FLEX, TWIST = 0, 1, 2
HIP = dict(r=2, l=5)
KNEE = dict(r=3, l=6)
CLAV = dict(l=11, r=14)
SHO = dict(l=12, r=15)
ELB = dict(l=13, r=16)
LOW_BACK, UP_BACK, NECK, HEAD = 7, 8, 9, 10
OTHER = dict(l='r', r='l')

# anatomical limits (degrees) per joint and component: (low, high)
LIMITS = np.zeros((NUM_JOINTS, 3, 2))
for _j in (2, 5):
    LIMITS[_j] = ((-30, 55), (-30, 130), (-40, 45))
for _j in (3, 6):
    LIMITS[_j] = ((0, 0), (0, 155), (0, 0))
LIMITS[LOW_BACK] = ((-30, 30), (-30, 75), (-40, 40))
LIMITS[UP_BACK] = ((-20, 20), (-25, 40), (-35, 35))
LIMITS[NECK] = ((-35, 35), (-50, 55), (-75, 75))
LIMITS[HEAD] = ((-15, 15), (-30, 30), (-10, 10))
for _j in (11, 14):
    LIMITS[_j] = ((-10, 35), (0, 0), (-20, 25))
for _j in (12, 15):
    LIMITS[_j] = ((-25, 175), (-65, 180), (-90, 90))
for _j in (13, 16):
    LIMITS[_j] = ((0, 0), (0, 155), (0, 0))
# limits of the combined swing (abduction and flexion together), degrees
SWING_LIMIT = {2: 135.0, 5: 135.0, 12: 185.0, 15: 185.0}

# anatomical angle -> rotation vector sign per joint and component (x, y, z axes of the parent
# bone's frame: forward, left, along the bone)
_SIGNS = np.zeros((NUM_JOINTS, 3))
_SIGNS[2], _SIGNS[5] = (-1, -1, -1), (1, -1, 1)
_SIGNS[3], _SIGNS[6] = (0, 1, 0), (0, 1, 0)
for _j in (7, 8, 9, 10):
    _SIGNS[_j] = (1, 1, 1)
_SIGNS[11], _SIGNS[14] = (1, 0, -1), (-1, 0, 1)
_SIGNS[12], _SIGNS[15] = (1, -1, 1), (-1, -1, -1)
_SIGNS[13], _SIGNS[16] = (0, -1, 0), (0, -1, 0)

# std (degrees) of the idiosyncratic smooth noise per joint
_NOISE_STD = np.zeros((NUM_JOINTS, 3))
for _j in (2, 5):
    _NOISE_STD[_j] = (3, 5, 5)
for _j in (3, 6):
    _NOISE_STD[_j] = (0, 5, 0)
_NOISE_STD[LOW_BACK] = (3, 4, 4)
_NOISE_STD[UP_BACK] = (2, 3, 4)
_NOISE_STD[NECK] = (6, 8, 12)
_NOISE_STD[HEAD] = (3, 5, 2)
for _j in (11, 14):
    _NOISE_STD[_j] = (4, 0, 4)
for _j in (12, 15):
    _NOISE_STD[_j] = (8, 10, 15)
for _j in (13, 16):
    _NOISE_STD[_j] = (0, 10, 0)


# ------------------------------------------------------------------------------ primitives
def min_jerk(s):
    """Minimum-jerk profile ``10 s^3 - 15 s^4 + 6 s^5`` of s clipped to [0, 1]."""
    s = np.clip(s, 0.0, 1.0)
    return s ** 3 * (10 - 15 * s + 6 * s * s)


def keyframes(t: np.ndarray, times: Sequence[float], values) -> np.ndarray:
    """Minimum-jerk interpolation through keyframes, held before the first and after the last.

    Args:
        t: (T,) seconds. times: (K,) increasing seconds. values: (K, ...) values.
    Returns:
        (T, ...) values.
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if len(times) == 1:
        return np.broadcast_to(values[0], (len(t),) + values.shape[1:]).copy()
    k = np.clip(np.searchsorted(times, t, side='right') - 1, 0, len(times) - 2)
    span = np.maximum(times[k + 1] - times[k], 1e-6)
    w = min_jerk((t - times[k]) / span).reshape((-1,) + (1,) * (values.ndim - 1))
    return values[k] + w * (values[k + 1] - values[k])


def smooth_noise(rng: np.random.Generator, n: int, shape: Tuple[int, ...], cutoff_hz,
                 fps: float = FPS) -> np.ndarray:
    """Band-limited Gaussian noise (n, *shape), unit std per series: white noise low-passed
    with a Gaussian filter of ``cutoff_hz`` (scalar or broadcastable to ``shape``)."""
    pad = n // 2 + int(fps)
    white = rng.standard_normal((n + 2 * pad,) + tuple(shape))
    freq = np.fft.rfftfreq(n + 2 * pad, 1.0 / fps).reshape((-1,) + (1,) * len(shape))
    gain = np.exp(-0.5 * (freq / np.asarray(cutoff_hz, dtype=np.float64)) ** 2)
    out = np.fft.irfft(np.fft.rfft(white, axis=0) * gain, n=n + 2 * pad, axis=0)[pad:pad + n]
    return out / np.maximum(out.std(axis=0, keepdims=True), 1e-9)


def _soft_clip(x, lo, hi):
    """Identity inside [lo + m, hi - m]; exponential approach to lo / hi in the margins m
    (continuous first derivative). Where lo == hi the value is lo."""
    m = np.maximum(np.minimum(10.0, 0.15 * (hi - lo)), 1e-6)
    up, down = hi - m, lo + m
    out = np.where(x > up, hi - m * np.exp(-np.maximum(x - up, 0.0) / m), x)
    out = np.where(x < down, lo + m * np.exp(np.minimum(x - down, 0.0) / m), out)
    return np.where(hi - lo < 1e-9, lo, out)


def apply_limits(pose: np.ndarray) -> np.ndarray:
    """Anatomical angles (T, 17, 3) degrees -> within :data:`LIMITS` (smoothly clamped), with
    the combined swing of hips and shoulders limited too."""
    out = _soft_clip(pose, LIMITS[..., 0], LIMITS[..., 1])
    for j, limit in SWING_LIMIT.items():
        swing = np.linalg.norm(out[:, j, :2], axis=-1, keepdims=True)
        scale = np.where(swing > 0.8 * limit,
                         _soft_clip(swing, 0.0, limit) / np.maximum(swing, 1e-9), 1.0)
        out[:, j, :2] *= scale
    return out


def joint_rotations(pose: np.ndarray) -> np.ndarray:
    """Anatomical angles (T, 17, 3) degrees -> bone rotations (T, 17, 3, 3): a swing
    (abduction and flexion as one rotation vector) followed by the twist about the bone."""
    rad = np.deg2rad(pose) * _SIGNS
    swing = rad.copy()
    swing[..., 2] = 0.0
    twist = np.zeros_like(rad)
    twist[..., 2] = rad[..., 2]
    clav = [11, 14]
    swing[:, clav, 2] = rad[:, clav, 2]      # clavicles: protraction is part of the swing
    twist[:, clav, 2] = 0.0
    return rotation_matrix(swing) @ rotation_matrix(twist)


# ------------------------------------------------------------------------------ segments
class Segment:
    """One family's motion over the whole clip (only its window is used after blending)."""

    def __init__(self, t: np.ndarray, window: Tuple[float, float], label: str):
        n = len(t)
        self.t, self.window, self.label = t, window, label
        self.pose = np.zeros((n, NUM_JOINTS, 3))
        self.yaw_rate = np.zeros(n)          # rad / s
        self.pitch = np.zeros(n)             # rad, forward tilt of the pelvis frame
        self.roll = np.zeros(n)              # rad, sideways tilt
        self.spin = np.zeros(n)              # rad, about the body's long axis
        self.velocity = np.zeros((n, 2))     # mm / s in the heading frame (x fwd, y left)
        self.lift = np.zeros(n)              # mm above the contact height
        self.anchor = np.ones(n)             # 1: supporting points stay; 0: velocity moves
        self.steer = np.zeros(n)             # 1: heading may turn back into the area
        self.flights: List[Tuple[float, float, float]] = []  # (take-off s, landing s, apex mm)

    def window_times(self, rng, count: int, margin: float = 0.3):
        """``count`` sorted event times spread evenly over the window (less ``margin`` s at
        each end), each jittered by up to 30 % of the spacing."""
        t0, t1 = self.window[0] + margin, self.window[1] - margin
        if t1 <= t0:
            return np.full(count, 0.5 * (self.window[0] + self.window[1]))
        base = np.linspace(t0, t1, count + 2)[1:-1]
        jitter = (t1 - t0) / (count + 1) * 0.3
        times = np.sort(base + rng.uniform(-jitter, jitter, count))
        return np.clip(times, t0, t1)


def _wander(seg: Segment, rng, max_deg_per_s: float):
    """A slow random heading drift of up to ``max_deg_per_s`` (std, drawn per segment)."""
    seg.yaw_rate = np.deg2rad(rng.uniform(0, max_deg_per_s)) * smooth_noise(rng, len(seg.t), (),
                                                                            0.3)


def _legs_stand(seg: Segment, rng, width: float = None):
    width = rng.uniform(0, 12) if width is None else width
    for s in 'lr':
        seg.pose[:, HIP[s], ABD] += width
        seg.pose[:, HIP[s], FLEX] += rng.uniform(0, 8)
        seg.pose[:, KNEE[s], FLEX] += rng.uniform(2, 12)
        seg.pose[:, HIP[s], TWIST] += rng.uniform(-10, 15)


def _arms_rest(seg: Segment, rng):
    for s in 'lr':
        seg.pose[:, SHO[s], ABD] += rng.uniform(3, 20)
        seg.pose[:, SHO[s], FLEX] += rng.uniform(-5, 20)
        seg.pose[:, ELB[s], FLEX] += rng.uniform(5, 40)


def _random_arm(rng, n: int):
    """n random arm postures (abduction, flexion, twist, elbow) within the arm's range."""
    abd = rng.uniform(-10, 150, n)
    flex = rng.uniform(-40, 170, n)
    twist = rng.uniform(-60, 60, n)
    elbow = rng.uniform(0, 140, n)
    return np.stack([abd, flex, twist, elbow], 1)


def _set_arm(pose, side, arm):
    pose[:, SHO[side], ABD] += arm[..., 0]
    pose[:, SHO[side], FLEX] += arm[..., 1]
    pose[:, SHO[side], TWIST] += arm[..., 2]
    pose[:, ELB[side], FLEX] += arm[..., 3]


def _gait(seg: Segment, freq, hip_amp, knee_amp, phase0, direction=1.0, arm=1.0,
          elbow=20.0, lean=4.0, hip_offset=8.0, sidestep=False):
    """Cyclic stepping: phase integrates ``freq`` (strides / s, scalar or (T,))."""
    t = seg.t
    dt = 1.0 / FPS
    phase = phase0 + direction * 2 * np.pi * np.cumsum(np.broadcast_to(freq, t.shape)) * dt
    for s, off in (('r', 0.0), ('l', np.pi)):
        ph = phase + off
        if sidestep:
            seg.pose[:, HIP[s], ABD] += 4 + hip_amp * np.clip(np.sin(ph), 0, None)
            seg.pose[:, HIP[s], FLEX] += 6 + 8 * np.clip(np.cos(ph), 0, None)
            seg.pose[:, KNEE[s], FLEX] += 8 + knee_amp * np.clip(np.cos(ph), 0, None) ** 2
        else:
            seg.pose[:, HIP[s], FLEX] += hip_offset + hip_amp * np.sin(ph)
            seg.pose[:, HIP[s], ABD] += 2 + 2 * np.cos(ph)
            swing = np.clip(np.cos(ph - 0.35), 0, None) ** 1.6
            stance = np.clip(np.sin(ph + 0.6), 0, None) ** 2
            seg.pose[:, KNEE[s], FLEX] += 4 + knee_amp * swing + 0.1 * knee_amp * stance
        # the arm opposite to the leg swings with it
        o = OTHER[s]
        seg.pose[:, SHO[o], FLEX] += arm * hip_amp * np.sin(ph) * (0.0 if sidestep else 1.0)
        seg.pose[:, SHO[o], ABD] += 8
        seg.pose[:, ELB[o], FLEX] += elbow + 0.3 * elbow * np.sin(ph)
    seg.pose[:, LOW_BACK, FLEX] += lean
    seg.pose[:, LOW_BACK, TWIST] += 0.4 * hip_amp * np.sin(phase)
    seg.pose[:, UP_BACK, TWIST] -= 0.5 * hip_amp * np.sin(phase)
    seg.pose[:, NECK, FLEX] -= 0.5 * lean
    return phase


# ------------------------------------------------------------------------------ families
def _locomotion(seg: Segment, rng, body, kind=None):
    leg = body['bones'][2] + body['bones'][3]
    # walking is drawn twice as often as each other kind
    kind = kind or rng.choice(('walk',) + KINDS['locomotion'])
    seg.label = f'locomotion/{kind}'
    seg.anchor[:] = 0.0
    seg.steer[:] = 1.0
    wobble = 1 + 0.08 * smooth_noise(rng, len(seg.t), (), 0.3)
    turn = np.deg2rad(rng.uniform(5, 40)) * smooth_noise(rng, len(seg.t), (), 0.25)
    phase0 = rng.uniform(0, 2 * np.pi)
    if kind in ('walk', 'backward'):
        freq = rng.uniform(0.75, 1.05) * wobble
        amp, off = rng.uniform(14, 24), rng.uniform(4, 10)
        _gait(seg, freq, amp, rng.uniform(45, 65), phase0,
              direction=-1.0 if kind == 'backward' else 1.0, arm=rng.uniform(0.3, 1.0),
              elbow=rng.uniform(8, 35), lean=rng.uniform(-2, 8), hip_offset=off)
        step = leg * (np.sin(np.deg2rad(off + amp)) + np.sin(np.deg2rad(amp - off)))
        seg.velocity[:, 0] = (-1.0 if kind == 'backward' else 1.0) * 2 * step * freq * 0.9
        seg.yaw_rate = turn
    elif kind in ('run', 'jog'):
        freq = (rng.uniform(1.3, 1.6) if kind == 'run' else rng.uniform(1.15, 1.35)) * wobble
        amp = rng.uniform(30, 45) if kind == 'run' else rng.uniform(22, 32)
        off = rng.uniform(8, 18)
        phase = _gait(seg, freq, amp, rng.uniform(85, 120), phase0, arm=rng.uniform(0.6, 1.1),
                      elbow=rng.uniform(70, 100), lean=rng.uniform(5, 15), hip_offset=off)
        step = leg * (np.sin(np.deg2rad(off + amp)) + np.sin(np.deg2rad(amp - off)))
        seg.velocity[:, 0] = 2 * step * freq * (1.2 if kind == 'run' else 1.0)
        seg.lift = rng.uniform(20, 70) * np.clip(np.sin(2 * phase), 0, None) ** 2
        seg.yaw_rate = 0.7 * turn
    elif kind == 'sidestep':
        freq = rng.uniform(0.6, 1.0) * wobble
        amp = rng.uniform(15, 30)
        _gait(seg, freq, amp, rng.uniform(20, 40), phase0, sidestep=True,
              elbow=rng.uniform(10, 40), lean=rng.uniform(0, 6))
        _arms_rest(seg, rng)
        side = rng.choice([-1.0, 1.0])
        seg.velocity[:, 1] = side * 2 * leg * np.sin(np.deg2rad(amp)) * freq * 0.8
        seg.yaw_rate = 0.3 * turn
        seg.steer[:] = 0.0
    else:  # turning on the spot
        freq = rng.uniform(0.6, 1.0)
        _gait(seg, freq, rng.uniform(5, 12), rng.uniform(20, 40), phase0,
              elbow=rng.uniform(10, 40), lean=rng.uniform(0, 5))
        _arms_rest(seg, rng)
        seg.yaw_rate = np.deg2rad(rng.choice([-1, 1]) * rng.uniform(60, 200)) * wobble
        seg.steer[:] = 0.0
        seg.anchor[:] = 1.0


_POSTURES = ('stand', 'sit', 'squat', 'kneel_one', 'kneel_two', 'bend', 'lunge', 'sit_floor')
# the movements each family draws from (``kind`` of :func:`generate_motion`)
KINDS = dict(
    locomotion=('walk', 'run', 'jog', 'backward', 'sidestep', 'turn'),
    posture=_POSTURES,
    upper_body=('reach', 'wave', 'punch', 'throw', 'gesture', 'overhead'),
    kick=('front', 'side', 'knee', 'back', 'swing', 'round'),
    jump=('vertical', 'tuck', 'jacks', 'hop', 'forward', 'skip'),
    floor=('lie', 'crawl', 'roll', 'getup', 'cartwheel', 'flip'),
)


def _posture_target(name: str, rng) -> Tuple[np.ndarray, float]:
    """Angles (17, 3) and pelvis pitch (deg) of a held posture, varied per draw."""
    p = np.zeros((NUM_JOINTS, 3))
    pitch = 0.0
    u = rng.uniform
    if name == 'stand':
        for s in 'lr':
            p[HIP[s]] = (u(0, 10), u(-3, 8), u(-5, 15))
            p[KNEE[s], FLEX] = u(0, 10)
    elif name == 'sit':
        for s in 'lr':
            p[HIP[s]] = (u(0, 20), u(75, 100), u(-10, 20))
            p[KNEE[s], FLEX] = u(70, 110)
        pitch = u(-15, 10)
        p[LOW_BACK, FLEX] = u(-5, 25)
    elif name == 'squat':
        for s in 'lr':
            p[HIP[s]] = (u(10, 30), u(95, 125), u(0, 25))
            p[KNEE[s], FLEX] = u(110, 145)
        pitch = u(15, 40)
        p[LOW_BACK, FLEX] = u(0, 30)
        p[NECK, FLEX] = -u(10, 35)
    elif name == 'kneel_one':
        front = rng.choice(['l', 'r'])
        p[HIP[front]] = (u(0, 15), u(75, 95), u(-5, 15))
        p[KNEE[front], FLEX] = u(80, 100)
        back = OTHER[front]
        p[HIP[back]] = (u(0, 10), u(-10, 10), u(-5, 10))
        p[KNEE[back], FLEX] = u(85, 110)
        pitch = u(-5, 10)
    elif name == 'kneel_two':
        heels = rng.random() < 0.5
        for s in 'lr':
            p[HIP[s]] = (u(0, 12), u(60, 90) if heels else u(-5, 15), 0)
            p[KNEE[s], FLEX] = u(135, 150) if heels else u(85, 110)
        pitch = u(-5, 15) if heels else u(-5, 10)
    elif name == 'bend':
        for s in 'lr':
            p[HIP[s]] = (u(0, 12), u(40, 80), u(-5, 10))
            p[KNEE[s], FLEX] = u(5, 40)
        pitch = u(20, 45)
        p[LOW_BACK, FLEX] = u(20, 60)
        p[UP_BACK, FLEX] = u(5, 30)
        for s in 'lr':
            p[SHO[s], FLEX] = u(50, 100)
    elif name == 'lunge':
        front = rng.choice(['l', 'r'])
        p[HIP[front]] = (u(0, 10), u(60, 90), 0)
        p[KNEE[front], FLEX] = u(70, 100)
        p[HIP[OTHER[front]]] = (u(0, 10), u(-30, -10), 0)
        p[KNEE[OTHER[front]], FLEX] = u(20, 80)
        pitch = u(-5, 15)
    else:  # sitting on the floor, legs out or crossed
        crossed = rng.random() < 0.5
        for s in 'lr':
            p[HIP[s]] = (u(20, 45) if crossed else u(0, 15), u(80, 100), u(20, 45) if crossed else 0)
            p[KNEE[s], FLEX] = u(100, 140) if crossed else u(0, 40)
        pitch = u(-30, 5)
        p[LOW_BACK, FLEX] = u(5, 30)
    if name not in ('bend',):
        for s in 'lr':
            p[SHO[s]] = (u(0, 40), u(-10, 60), u(-20, 20))
            p[ELB[s], FLEX] = u(5, 100)
    return p, pitch


def _posture(seg: Segment, rng, body, kind=None):
    count = int(rng.integers(2, 5))
    names = [rng.choice(_POSTURES) for _ in range(count)]
    if kind is not None:
        names[1] = kind
    if rng.random() < 0.6:
        names[0] = 'stand'
    seg.label = 'posture/' + '-'.join(names)
    times = seg.window_times(rng, 2 * count)
    targets, pitches = zip(*[_posture_target(n, rng) for n in names])
    # hold each posture between pairs of keyframes
    values = np.repeat(np.stack(targets), 2, axis=0)
    seg.pose += keyframes(seg.t, times, values)
    seg.pitch += np.deg2rad(keyframes(seg.t, times, np.repeat(pitches, 2)))
    _wander(seg, rng, 10)


def _upper(seg: Segment, rng, body, kind=None):
    kind = kind or rng.choice(KINDS['upper_body'])
    seg.label = f'upper/{kind}'
    _legs_stand(seg, rng)
    n = len(seg.t)
    t = seg.t
    side = rng.choice(['l', 'r'])
    if kind in ('reach', 'gesture'):
        count = int(rng.integers(3, 7))
        times = seg.window_times(rng, count, margin=0.1)
        for s in 'lr':
            arms = _random_arm(rng, count)
            if kind == 'gesture':
                arms[:, :2] *= 0.5
            _set_arm(seg.pose, s, keyframes(t, times, arms))
        seg.pose[:, LOW_BACK] += keyframes(t, times, rng.uniform([-15, -5, -30], [15, 30, 30],
                                                                  (count, 3)))
    elif kind == 'wave':
        f = rng.uniform(1.5, 3.0)
        env = keyframes(t, seg.window_times(rng, 2), [[0.0], [1.0]])[:, 0]
        if rng.random() < 0.5:
            env = env * (1 - keyframes(t, [seg.window[1] - 0.8, seg.window[1] - 0.2],
                                       [[0.0], [1.0]])[:, 0])
        wave = np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
        abd, flex, twist, elbow, elbow_amp = (rng.uniform(60, 110), rng.uniform(0, 40),
                                              rng.uniform(20, 60), rng.uniform(40, 100),
                                              rng.uniform(15, 35))
        arm = env[:, None] * np.stack([np.full_like(t, abd), np.full_like(t, flex),
                                       twist + 25 * wave, elbow + elbow_amp * wave], 1)
        _set_arm(seg.pose, side, arm)
        _arms_rest(seg, rng)
        seg.pose[:, NECK, TWIST] += rng.uniform(-30, 30)
    elif kind == 'punch':
        count = int(rng.integers(3, 9))
        times = seg.window_times(rng, count, margin=0.1)
        guard = np.array([15, 40, 0, 120])
        for s in 'lr':
            _set_arm(seg.pose, s, np.broadcast_to(guard, (n, 4)) + rng.uniform(-10, 10, 4))
        for i, tc in enumerate(times):
            s = side if rng.random() < 0.4 else ('l' if i % 2 else 'r')
            width = rng.uniform(0.12, 0.25)
            bump = np.exp(-0.5 * ((t - tc) / width) ** 2)
            target = np.array([rng.uniform(-10, 30), rng.uniform(45, 95), 0, -rng.uniform(90, 120)])
            if rng.random() < 0.3:  # uppercut / hook
                target = np.array([rng.uniform(30, 80), rng.uniform(30, 90), 0, -rng.uniform(20, 60)])
            _set_arm(seg.pose, s, bump[:, None] * target)
            seg.pose[:, LOW_BACK, TWIST] += (20 if s == 'r' else -20) * bump
        seg.pose[:, HIP['l'], FLEX] += 15
        seg.pose[:, KNEE['l'], FLEX] += 15
        seg.pose[:, KNEE['r'], FLEX] += 15
    elif kind == 'throw':
        count = int(rng.integers(1, 4))
        times = seg.window_times(rng, count)
        for tc in times:
            wind = keyframes(t, [tc - 0.6, tc - 0.15, tc + 0.1, tc + 0.5],
                             [[0, 0, 0, 0], [rng.uniform(80, 120), rng.uniform(60, 120),
                                             rng.uniform(40, 80), rng.uniform(60, 110)],
                              [rng.uniform(20, 60), rng.uniform(60, 110), -20, 10],
                              [0, 0, 0, 0]])
            _set_arm(seg.pose, side, wind)
            trunk = keyframes(t, [tc - 0.6, tc - 0.15, tc + 0.1, tc + 0.5],
                              [[0], [-30 if side == 'r' else 30], [25 if side == 'r' else -25],
                               [0]])[:, 0]
            seg.pose[:, LOW_BACK, TWIST] += trunk
            seg.pose[:, LOW_BACK, FLEX] += 0.5 * np.abs(trunk)
        _set_arm(seg.pose, OTHER[side], np.broadcast_to([20, 40, 0, 60], (n, 4)))
    else:  # arms overhead / stretching
        count = int(rng.integers(2, 5))
        times = seg.window_times(rng, count)
        up = np.stack([rng.uniform(100, 175, count), rng.uniform(60, 175, count),
                       rng.uniform(-30, 30, count), rng.uniform(0, 60, count)], 1)
        up[::2] = _random_arm(rng, len(up[::2])) * 0.3
        for s in 'lr':
            _set_arm(seg.pose, s, keyframes(t, times, up))
        seg.pose[:, LOW_BACK, ABD] += keyframes(t, times, rng.uniform(-20, 20, (count, 1)))[:, 0]
        seg.pose[:, LOW_BACK, FLEX] -= keyframes(t, times, rng.uniform(0, 15, (count, 1)))[:, 0]
    _wander(seg, rng, 15)


def _kick(seg: Segment, rng, body, kind=None):
    kind = kind or rng.choice(KINDS['kick'])
    seg.label = f'kick/{kind}'
    t = seg.t
    n = len(t)
    _legs_stand(seg, rng, width=rng.uniform(0, 8))
    guard = rng.random() < 0.6
    for s in 'lr':
        if guard:
            _set_arm(seg.pose, s, np.broadcast_to([rng.uniform(10, 30), rng.uniform(20, 60), 0,
                                                  rng.uniform(90, 130)], (n, 4)))
        else:
            _set_arm(seg.pose, s, np.broadcast_to([rng.uniform(20, 80), rng.uniform(-10, 30), 0,
                                                  rng.uniform(5, 40)], (n, 4)))
    count = int(rng.integers(1, 5))
    times = seg.window_times(rng, count, margin=0.5)
    side = rng.choice(['l', 'r'])
    for i, tc in enumerate(times):
        s = side if rng.random() < 0.6 else OTHER[side]
        dur = rng.uniform(0.35, 0.7)
        key_t = [tc - dur, tc - 0.4 * dur, tc, tc + 0.4 * dur, tc + dur]
        if kind in ('front', 'round', 'swing'):
            height = rng.uniform(50, 110)
            hip = [[0, 0, 0], [0, 0.7 * height, 0], [rng.uniform(0, 25) + (40 if kind == 'round' else 0),
                                                        height, 0], [0, 0.6 * height, 0], [0, 0, 0]]
            knee = [0, rng.uniform(90, 130), rng.uniform(0, 25) if kind != 'swing' else 10, 80, 0]
        elif kind == 'side':
            height = rng.uniform(40, 70)
            hip = [[0, 0, 0], [0.5 * height, 50, 30], [height, 20, 40], [0.5 * height, 40, 30],
                   [0, 0, 0]]
            knee = [0, 110, 10, 90, 0]
            seg.pose[:, LOW_BACK, ABD] += (1 if s == 'l' else -1) * 25 * np.exp(
                -0.5 * ((t - tc) / (0.3 * dur)) ** 2)
        elif kind == 'back':
            hip = [[0, 0, 0], [0, 40, 0], [0, -rng.uniform(20, 30), 0], [0, 30, 0], [0, 0, 0]]
            knee = [0, 100, 20, 80, 0]
            seg.pitch += np.deg2rad(25) * np.exp(-0.5 * ((t - tc) / (0.3 * dur)) ** 2)
        else:  # knee raise
            hip = [[0, 0, 0], [0, 50, 0], [0, rng.uniform(80, 115), 0], [0, 50, 0], [0, 0, 0]]
            knee = [0, 80, rng.uniform(100, 140), 80, 0]
        seg.pose[:, HIP[s]] += keyframes(t, key_t, hip)
        seg.pose[:, KNEE[s], FLEX] += keyframes(t, key_t, np.array(knee)[:, None])[:, 0]
        seg.pose[:, KNEE[OTHER[s]], FLEX] += keyframes(t, key_t, [[0], [8], [12], [8], [0]])[:, 0]
        seg.pose[:, LOW_BACK, FLEX] -= keyframes(t, key_t, [[0], [5], [12], [5], [0]])[:, 0]
    _wander(seg, rng, 15)


def _jump(seg: Segment, rng, body, kind=None):
    kind = kind or rng.choice(KINDS['jump'])
    seg.label = f'jump/{kind}'
    t = seg.t
    _arms_rest(seg, rng)
    if kind in ('jacks', 'skip'):
        freq = rng.uniform(1.0, 1.6)
        times = np.arange(seg.window[0] + 0.3, seg.window[1] - 0.3, 1.0 / freq)
        flight = rng.uniform(0.2, 0.35) / freq * 1.5
    else:
        count = int(rng.integers(1, 4))
        times = seg.window_times(rng, count, margin=0.7)
        flight = rng.uniform(0.3, 0.6)
    apex = GRAVITY * flight ** 2 / 8
    for i, tc in enumerate(times):
        take_off, land = tc, tc + flight
        seg.flights.append((take_off, land, apex))
        crouch = np.exp(-0.5 * ((t - (take_off - 0.25)) / 0.15) ** 2) \
            + np.exp(-0.5 * ((t - (land + 0.12)) / 0.12) ** 2)
        air = np.clip((t - take_off) / flight, 0, 1)
        air = np.where((t > take_off) & (t < land), np.sin(np.pi * air), 0.0)
        depth = rng.uniform(0.6, 1.0)
        legs = 'l' if kind == 'hop' else 'lr'
        for s in 'lr':
            if s in legs:
                seg.pose[:, HIP[s], FLEX] += depth * 70 * crouch
                seg.pose[:, KNEE[s], FLEX] += depth * 90 * crouch
            else:
                seg.pose[:, HIP[s], FLEX] += 40
                seg.pose[:, KNEE[s], FLEX] += 80
        seg.pitch += np.deg2rad(depth * 30) * crouch
        if kind == 'tuck':
            for s in 'lr':
                seg.pose[:, HIP[s], FLEX] += rng.uniform(70, 110) * air
                seg.pose[:, KNEE[s], FLEX] += rng.uniform(90, 130) * air
        elif kind == 'jacks':
            for s in 'lr':
                seg.pose[:, HIP[s], ABD] += 25 * air
                seg.pose[:, SHO[s], ABD] += 140 * np.clip(air * 1.5, 0, 1)
        elif kind == 'skip':
            s = 'l' if i % 2 else 'r'
            seg.pose[:, HIP[s], FLEX] += 60 * air
            seg.pose[:, KNEE[s], FLEX] += 80 * air
        for s in 'lr':
            if kind not in ('jacks',):
                seg.pose[:, SHO[s], FLEX] += rng.uniform(60, 150) * air - 30 * crouch
        if kind in ('forward', 'skip'):
            seg.velocity[:, 0] += np.where((t > take_off) & (t < land),
                                           rng.uniform(600, 2000), 0.0)
    _wander(seg, rng, 20)
    if kind in ('forward', 'skip'):
        seg.anchor[:] = 0.0


def _floor(seg: Segment, rng, body, kind=None):
    kind = kind or rng.choice(KINDS['floor'])
    seg.label = f'floor/{kind}'
    t = seg.t
    u = rng.uniform
    t0, t1 = seg.window
    if kind == 'lie':
        face = rng.choice(['up', 'down', 'side'])
        if face == 'side':
            seg.roll += np.deg2rad(rng.choice([-1, 1]) * u(80, 95))
            for s in 'lr':
                seg.pose[:, HIP[s], FLEX] += u(0, 70)
                seg.pose[:, KNEE[s], FLEX] += u(0, 90)
        else:
            seg.pitch += np.deg2rad((-1 if face == 'up' else 1) * u(80, 95))
        count = int(rng.integers(2, 5))
        times = seg.window_times(rng, count, margin=0.1)
        for s in 'lr':
            _set_arm(seg.pose, s, keyframes(t, times, _random_arm(rng, count)))
            seg.pose[:, HIP[s], :2] += keyframes(t, times, np.stack([u(0, 30, count),
                                                                     u(-10, 90, count)], 1))
            seg.pose[:, KNEE[s], FLEX] += keyframes(t, times, u(0, 120, (count, 1)))[:, 0]
        seg.pose[:, NECK, FLEX] += u(-20, 40)
    elif kind == 'crawl':
        freq = u(0.5, 0.9)
        phase = u(0, 2 * np.pi) + 2 * np.pi * freq * (t - t0)
        seg.pitch += np.deg2rad(u(70, 90))
        for s, off in (('r', 0.0), ('l', np.pi)):
            ph = phase + off
            seg.pose[:, HIP[s], FLEX] += u(80, 95) + 15 * np.sin(ph)
            seg.pose[:, KNEE[s], FLEX] += u(85, 105) + 10 * np.clip(np.cos(ph), 0, None)
            seg.pose[:, HIP[s], ABD] += u(5, 15)
            o = OTHER[s]
            seg.pose[:, SHO[o], FLEX] += u(75, 95) + 15 * np.sin(ph)
            seg.pose[:, SHO[o], ABD] += u(5, 15)
            seg.pose[:, ELB[o], FLEX] += u(0, 20) + 10 * np.clip(np.cos(ph), 0, None)
        seg.pose[:, NECK, FLEX] -= u(20, 45)
        # a hand-and-knee stride of ~0.28 m per gait cycle
        seg.velocity[:, 0] = 1080 * freq * np.sin(np.deg2rad(15))
        seg.anchor[:] = 0.0
    elif kind == 'roll':
        rate = np.deg2rad(u(180, 330)) * rng.choice([-1, 1])
        start = u(t0, t0 + 0.3 * (t1 - t0))
        seg.pitch += np.deg2rad(90)
        seg.spin += rate * np.clip(t - start, 0, None)
        overhead = rng.random() < 0.5
        for s in 'lr':
            seg.pose[:, SHO[s], FLEX] += u(150, 175) if overhead else u(-5, 15)
            seg.pose[:, SHO[s], ABD] += u(0, 20)
            seg.pose[:, HIP[s], FLEX] += u(-5, 20)
        seg.velocity[:, 1] = -rate * 160.0 * (t > start)
        seg.anchor[:] = 0.0
    elif kind == 'getup':
        times = seg.window_times(rng, 6, margin=0.1)
        down_first = rng.random() < 0.4
        stand = np.zeros((NUM_JOINTS, 3))
        sitting = np.zeros((NUM_JOINTS, 3))
        squat = np.zeros((NUM_JOINTS, 3))
        lying = np.zeros((NUM_JOINTS, 3))
        for s in 'lr':
            sitting[HIP[s], FLEX], sitting[KNEE[s], FLEX] = u(70, 100), u(60, 130)
            squat[HIP[s], FLEX], squat[KNEE[s], FLEX] = u(100, 125), u(110, 145)
            sitting[SHO[s]] = (u(10, 40), u(-40, 30), 0)
            squat[SHO[s], FLEX] = u(20, 70)
            lying[SHO[s], ABD] = u(0, 60)
            lying[KNEE[s], FLEX] = u(0, 60)
            lying[HIP[s], FLEX] = u(0, 40)
        poses = [lying, lying, sitting, squat, stand, stand]
        pitches = [-u(80, 92), -u(80, 92), -u(10, 45), u(20, 40), 0.0, 0.0]
        if down_first:
            poses, pitches = poses[::-1], pitches[::-1]
        seg.pose += keyframes(t, times, np.stack(poses))
        seg.pitch += np.deg2rad(keyframes(t, times, np.array(pitches)))
    elif kind == 'cartwheel':
        dur = u(0.9, 1.5)
        start = u(t0 + 0.3, max(t0 + 0.31, t1 - dur - 0.3))
        direction = rng.choice([-1, 1])
        turn = min_jerk((t - start) / dur)
        active = np.sin(np.pi * turn)
        seg.roll += direction * 2 * np.pi * np.where(turn < 1, turn, 0.0)
        for s in 'lr':
            seg.pose[:, SHO[s], ABD] += u(150, 175) * np.clip(active * 2, 0, 1)
            seg.pose[:, HIP[s], ABD] += u(30, 50) * active
            seg.pose[:, ELB[s], FLEX] += u(0, 15)
        distance = u(1.0, 1.3) * body['height']
        seg.velocity[:, 1] = -direction * distance * np.gradient(turn, 1.0 / FPS)
        seg.anchor[:] = 0.0
    else:  # back or front flip
        flight = u(0.55, 0.85)
        take_off = u(t0 + 0.5, max(t0 + 0.51, t1 - flight - 0.5))
        land = take_off + flight
        back = rng.random() < 0.6
        seg.flights.append((take_off, land, GRAVITY * flight ** 2 / 8 + u(100, 300)))
        turn = min_jerk((t - take_off + 0.05) / (flight + 0.1))
        seg.pitch += (-1 if back else 1) * 2 * np.pi * np.where(turn < 1, turn, 0.0)
        tuck = np.sin(np.pi * np.clip(turn, 0, 1))
        crouch = np.exp(-0.5 * ((t - (take_off - 0.2)) / 0.13) ** 2) \
            + np.exp(-0.5 * ((t - (land + 0.1)) / 0.12) ** 2)
        for s in 'lr':
            seg.pose[:, HIP[s], FLEX] += u(90, 125) * tuck + 70 * crouch
            seg.pose[:, KNEE[s], FLEX] += u(100, 140) * tuck + 90 * crouch
            seg.pose[:, SHO[s], FLEX] += u(100, 170) * np.clip(tuck * 2, 0, 1) - 40 * crouch
        seg.pitch += np.deg2rad(30) * crouch
        if not back:
            seg.velocity[:, 0] += np.where((t > take_off) & (t < land), u(500, 1500), 0.0)
            seg.anchor[:] = 0.0


FAMILIES: Dict[str, Callable] = {
    'locomotion': _locomotion, 'posture': _posture, 'upper_body': _upper, 'kick': _kick,
    'jump': _jump, 'floor': _floor,
}
MIN_SEGMENT_S = 1.2
# a clip's own family fills at least this fraction of it before any transition, and the
# cross-fade into the next family (at most MAX_FADE_S long, centred on the cut) starts at most
# MAX_FADE_S / 2 earlier: :func:`own_family_frames`
OWN_FAMILY_FRACTION = 0.5
MAX_FADE_S = 0.8


def own_family_frames(n_frames: int) -> int:
    """How many leading frames of a clip of ``n_frames`` show its own family only, whatever
    transitions were drawn: the first ``OWN_FAMILY_FRACTION`` of the clip less half the
    longest cross-fade (the frames an action label of the recording is certain for)."""
    return max(int(OWN_FAMILY_FRACTION * n_frames - MAX_FADE_S / 2 * FPS), 0)


def _segments(rng, family: str, allowed: Sequence[str], duration: float,
              transition_prob: float) -> List[Tuple[str, float, float]]:
    """[(family, start s, end s)]: the clip's own family first (at least half the clip)."""
    count = 1
    if rng.random() < transition_prob and duration >= 2 * MIN_SEGMENT_S:
        count = 2 if duration < 3 * MIN_SEGMENT_S or rng.random() < 0.6 else 3
    if count == 1:
        return [(family, 0.0, duration)]
    first = rng.uniform(OWN_FAMILY_FRACTION, 0.7) * duration
    cuts = [0.0, first]
    if count == 3:
        cuts.append(first + 0.5 * (duration - first))
    cuts.append(duration)
    out = []
    for i in range(count):
        fam = family if i == 0 else str(rng.choice(list(allowed)))
        out.append((fam, cuts[i], cuts[i + 1]))
    return out


def _blend_weights(t, segments, fade):
    """(K, T) weights that sum to 1: each segment's window with min-jerk cross-fades."""
    weights = []
    for k, (_, start, end) in enumerate(segments):
        w = np.ones_like(t)
        if k > 0:
            w *= min_jerk((t - (start - fade / 2)) / fade)
        if k < len(segments) - 1:
            w *= 1 - min_jerk((t - (end - fade / 2)) / fade)
        weights.append(w)
    weights = np.stack(weights)
    return weights / weights.sum(0, keepdims=True)


def _softmin(x, axis, tau):
    m = x.min(axis=axis, keepdims=True)
    return (m - tau * np.log(np.exp(-(x - m) / tau).sum(axis=axis, keepdims=True))).squeeze(axis)


def generate_motion(rng: np.random.Generator, family: str, n_frames: int, body: Dict,
                    allowed: Sequence[str] = None, transition_prob: float = 0.5,
                    area=((0.0, 350.0), 1300.0), noise_scale: float = None,
                    kind: str = None) -> Dict:
    """One clip of world-space 3D joints.

    Args:
        rng: the clip's random generator (everything is drawn from it).
        family: one of :data:`FAMILIES`, the clip's own (first) family.
        n_frames: clip length at :data:`FPS`.
        body: from :func:`~dualpose.datasets.synthetic.body.draw_body`.
        allowed: families that transitions may go to (default: all).
        transition_prob: probability that the clip moves on to other families.
        area: ``((x, y), radius)`` of the floor area (world mm) the person stays in.
        noise_scale: scale of the idiosyncratic angle noise (default drawn in [0.5, 1.5]).
        kind: the first segment's movement, one of ``KINDS[family]`` (default: drawn).

    Returns:
        dict: ``joints`` (T, 17, 3) world mm (z up, floor z = 0), ``labels`` of the segments.
    """
    allowed = list(FAMILIES) if allowed is None else list(allowed)
    if family not in FAMILIES:
        raise ValueError(f'unknown family {family!r}; valid: {list(FAMILIES)}')
    if kind is not None and kind not in KINDS[family]:
        raise ValueError(f'unknown {family} kind {kind!r}; valid: {list(KINDS[family])}')
    t = np.arange(n_frames) / FPS
    duration = n_frames / FPS
    plan = _segments(rng, family, allowed, duration, transition_prob)
    fade = rng.uniform(0.4, MAX_FADE_S)
    weights = _blend_weights(t, plan, fade)
    segs = []
    for i, (fam, start, end) in enumerate(plan):
        seg = Segment(t, (start, end), fam)
        FAMILIES[fam](seg, rng, body, kind if i == 0 else None)
        segs.append(seg)

    def mix(attr):
        return sum(w.reshape((-1,) + (1,) * (getattr(s, attr).ndim - 1)) * getattr(s, attr)
                   for w, s in zip(weights, segs))

    pose = mix('pose')
    scale = rng.uniform(0.5, 1.5) if noise_scale is None else noise_scale
    cutoff = rng.uniform(0.3, 1.5)
    pose += scale * _NOISE_STD * smooth_noise(rng, n_frames, (NUM_JOINTS, 3), cutoff)
    pose = apply_limits(pose)
    pitch, roll, spin = mix('pitch'), mix('roll'), mix('spin')
    pitch = pitch + np.deg2rad(scale * 2.0) * smooth_noise(rng, n_frames, (), 0.4)
    roll = roll + np.deg2rad(scale * 1.5) * smooth_noise(rng, n_frames, (), 0.4)
    yaw_rate, velocity, lift = mix('yaw_rate'), mix('velocity'), mix('lift')
    anchor, steer = mix('anchor'), mix('steer')

    # heading and horizontal path, steered back into the area while walking
    (cx, cy), radius = area
    dt = 1.0 / FPS
    yaw = np.empty(n_frames)
    path = np.empty((n_frames, 2))
    heading = rng.uniform(-np.pi, np.pi)
    pos = np.array([cx, cy]) + rng.uniform(-0.6, 0.6, 2) * radius
    max_turn = np.deg2rad(250.0)
    for i in range(n_frames):
        yaw[i], path[i] = heading, pos
        c, s = np.cos(heading), np.sin(heading)
        v = np.array([c * velocity[i, 0] - s * velocity[i, 1],
                      s * velocity[i, 0] + c * velocity[i, 1]])
        rate = yaw_rate[i]
        off = pos - (cx, cy)
        dist = np.hypot(*off)
        if steer[i] > 0 and dist > 0.4 * radius and v @ off > 0:
            want = np.arctan2(-off[1], -off[0])
            if velocity[i, 0] < 0:           # walking backwards: turn the back inwards
                want += np.pi
            err = (want - heading + np.pi) % (2 * np.pi) - np.pi
            rate += steer[i] * np.clip(3.0 * err, -max_turn, max_turn) * min(dist / radius, 1.5)
        heading += rate * dt
        pos = pos + v * dt
    rot = joint_rotations(pose)
    rot[:, 0] = euler_zyx(yaw, pitch, roll, spin)
    rel = forward_kinematics(rot, body['bones'])

    # supporting points: the lowest body surfaces; where anchored they do not slide
    surface = rel[..., 2] - body['radius']
    contact = -_softmin(surface, 1, 12.0)
    support_w = np.exp(-(surface - surface.min(1, keepdims=True)) / 40.0)
    support_w /= support_w.sum(1, keepdims=True)
    support = (support_w[..., None] * rel[..., :2]).sum(1)
    slide = np.cumsum(np.vstack([np.zeros((1, 2)), np.diff(support, axis=0)])
                      * anchor[:, None], axis=0)
    root_xy = path - slide
    # the whole clip inside the area: its path's box centred near the area's centre
    mid = 0.5 * (root_xy.min(0) + root_xy.max(0))
    root_xy += np.array([cx, cy]) + rng.uniform(-0.4, 0.4, 2) * radius - mid
    height = contact + lift
    for take_off, land, apex in (f for s in segs for f in s.flights):
        i0, i1 = int(round(take_off * FPS)), int(round(land * FPS))
        i0, i1 = max(i0, 0), min(i1, n_frames - 1)
        if i1 <= i0 + 1:
            continue
        s = (np.arange(i0, i1 + 1) - i0) / (i1 - i0)
        arc = height[i0] + (height[i1] - height[i0]) * s + apex * 4 * s * (1 - s)
        height[i0:i1 + 1] = np.maximum(arc, contact[i0:i1 + 1])
    root = np.concatenate([root_xy, height[:, None]], 1)
    return dict(joints=rel + root[:, None], labels=[s.label for s in segs])
