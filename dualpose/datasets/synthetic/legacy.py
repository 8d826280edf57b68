"""Generator v1 (kept for one release): SYNTHETIC Human3.6M-like data from seven scripted
actions and four invented cameras, in the MotionBERT pickle layout.

Superseded by generator v2 (the package :mod:`dualpose.datasets.synthetic`); reachable as
``write_synthetic_h36m(..., generator='v1')`` and ``make_synthetic_h36m.py --generator v1`` so
that before/after comparisons can be made.

Everything this module writes is SYNTHETIC: procedurally animated stick figures seen by four
virtual pinhole cameras. It is NOT Human3.6M, holds no real motion capture, and numbers
obtained on it say nothing about accuracy on the real benchmark. It exists so the real
loader, training and evaluation code can run end to end where Human3.6M is unavailable.

The file has the layout of MotionBERT's ``h36m_sh_conf_cam_source_final.pkl``::

    {'train': {...}, 'test': {...}}

Each split holds per-frame arrays, videos concatenated one after another (the frames of
one video contiguous and in time order):

==================== ============== ==========================================================
key                  shape / dtype  content
==================== ============== ==========================================================
joint_2d             (N,17,2) f32   detector-like 2D keypoints in pixels (correlated jitter
                                    plus short outliers)
confidence           (N,17) f32     in [0.05, 1], falling with the 2D error of that joint
joint3d_image        (N,17,3) f32   x, y: clean projection in pixels; z: root-relative
                                    camera depth divided by ``2.5d_factor`` (pixel units)
2.5d_factor          (N,) f32       millimetres per pixel: root depth / mean focal length
joints_2.5d_image    (N,17,3) f32   ``joint3d_image * 2.5d_factor`` (millimetres)
camera_name          (N,) object    camera id, e.g. ``'54138969'``
source               (N,) object    ``s_09_act_05_subact_02_ca_01`` (one id per video)
action               (N,) object    action name, e.g. ``'Walking'``
==================== ============== ==========================================================

The 17 joints follow the H36M order (0 pelvis, 1-3 right leg, 4-6 left leg, 7 spine,
8 thorax, 9 neck/nose, 10 head, 11-13 left arm, 14-16 right arm). Motions are made by
forward kinematics of a per-subject skeleton (constant bone lengths) with joint angles
driven by smooth functions of time at 50 fps; the feet are kept near the ground.

Usage::

    from dualpose.datasets.synthetic import write_synthetic_h36m
    write_synthetic_h36m('data/h36m_synthetic/v1.pkl', generator='v1')

This module needs numpy only.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .body import PARENTS, REST_DIRECTIONS
from .noise import JITTER_STD
from ..h36m_cameras import H36M_TEST_SUBJECTS, H36M_TRAIN_SUBJECTS
from .writer import object_column, subject_number

__all__ = [
    'generate_synthetic_h36m', 'subject_bone_lengths',
    'generate_world_motion', 'camera_extrinsics', 'DEFAULT_CAMERAS', 'DEFAULT_ACTIONS',
    'SKELETON_PARENTS', 'SKELETON_LINKS', 'FPS'
]

FPS = 50
NUM_JOINTS = 17
ROOT = 0
# parent of each joint (-1 for the root), H36M order
SKELETON_PARENTS = PARENTS
SKELETON_LINKS = tuple((p, c) for c, p in enumerate(SKELETON_PARENTS) if p >= 0)

# the default six; 'Reaching' has a motion too and can be asked for via ``actions``
DEFAULT_ACTIONS = ('Walking', 'SittingDown', 'Waving', 'Turning', 'Crouching', 'Jumping')
DEFAULT_FRAMES_PER_VIDEO = 110
# each sequence is between frames_per_video and this many times as long
_LENGTH_SPREAD = 1.4

# Four H36M-like cameras (world: millimetres, z up, origin on the floor at the centre of
# the capture area). Intrinsics are those of S1 in Human3.6M; the extrinsics are invented
# (one camera per corner, looking at a point ~1 m above the centre).
DEFAULT_CAMERAS = (
    dict(name='54138969', size=(1000, 1002), focal=(1145.05, 1143.78),
         center=(512.54, 515.45), position=(-3590.0, -3450.0, 1560.0),
         target=(0.0, 0.0, 1000.0)),
    dict(name='55011271', size=(1000, 1000), focal=(1149.68, 1147.59),
         center=(508.85, 508.06), position=(3380.0, -3290.0, 1620.0),
         target=(0.0, 0.0, 1000.0)),
    dict(name='58860488', size=(1000, 1000), focal=(1149.14, 1148.80),
         center=(519.82, 501.40), position=(3650.0, 3810.0, 1760.0),
         target=(0.0, 0.0, 1000.0)),
    dict(name='60457274', size=(1000, 1002), focal=(1145.51, 1144.77),
         center=(514.97, 501.88), position=(-3420.0, 3520.0, 1690.0),
         target=(0.0, 0.0, 1000.0)),
)

# Rest-pose bone directions (body frame: x forward, y left, z up; the same as v2's bodies) and
# lengths in mm for a ~1.75 m tall adult; the offset of joint j is from its parent.
_BONE_DIRS = REST_DIRECTIONS
_BONE_LENGTHS = np.array([0.0, 130, 450, 440, 130, 450, 440, 230, 250, 110, 115,
                          150, 280, 250, 150, 280, 250])
_ANKLE_HEIGHT = 85.0  # ankle joint above the floor when the foot is flat (mm)

# per-joint 2D detector jitter std in pixels: the same as v2's
_JITTER_STD = JITTER_STD


# ---------------------------------------------------------------------------- helpers
def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([int(k) for k in key])


def _rot_x(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1),
                     np.stack([z, s, c], -1)], -2)


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1),
                     np.stack([-s, z, c], -1)], -2)


def _rot_z(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1),
                     np.stack([z, z, o], -1)], -2)


def _smooth_noise(rng, t, std, n_comp=3, fmin=0.15, fmax=1.0):
    """Sum of a few random low-frequency sinusoids with total std ~``std``."""
    f = rng.uniform(fmin, fmax, n_comp)
    ph = rng.uniform(0, 2 * np.pi, n_comp)
    a = rng.uniform(0.5, 1.0, n_comp)
    a *= std * np.sqrt(2.0 / np.sum(a ** 2))
    return (a[:, None] * np.sin(2 * np.pi * f[:, None] * t[None] + ph[:, None])).sum(0)


def _episodes(t, period, phase):
    """Smooth 0..1 envelope that alternates between holds at 0 and at 1."""
    x = 0.5 - 0.5 * np.cos(2 * np.pi * t / period + phase)
    x = np.clip(1.6 * x - 0.3, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _softmin(x, axis, tau=15.0):
    m = x.min(axis=axis, keepdims=True)
    return (m - tau * np.log(np.exp(-(x - m) / tau).sum(axis=axis, keepdims=True))).squeeze(axis)


def camera_extrinsics(camera: Dict) -> Tuple[np.ndarray, np.ndarray]:
    """World-to-camera rotation R (3, 3) and camera centre C (3,), x_cam = R @ (x - C).

    The camera looks from ``position`` at ``target`` with no roll (x right, y down, z forward).
    """
    pos = np.asarray(camera['position'], dtype=np.float64)
    fwd = np.asarray(camera['target'], dtype=np.float64) - pos
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    return np.stack([right, down, fwd]), pos


# ---------------------------------------------------------------------------- skeleton
def subject_bone_lengths(subject, seed: int = 0) -> np.ndarray:
    """Bone lengths (17,) in mm of one subject (entry j: joint j to its parent; 0 for the root).

    Deterministic in (seed, subject): an overall scale in [0.9, 1.1] times a small per-bone
    variation (+-4 %), symmetric between left and right.
    """
    rng = _rng(seed, subject_number(subject), 101)
    scale = rng.uniform(0.9, 1.1)
    var = rng.uniform(0.96, 1.04, NUM_JOINTS)
    for right, left in ((1, 4), (2, 5), (3, 6), (14, 11), (15, 12), (16, 13)):
        var[right] = var[left]
    return _BONE_LENGTHS * scale * var


def _forward_kinematics(local_rot, offsets):
    """Joint positions relative to the root (T,17,3) from local rotations (T,17,3,3)
    (joint 0's is the global root orientation) and rest offsets (17,3)."""
    t = local_rot.shape[0]
    glob = np.empty_like(local_rot)
    pos = np.zeros((t, NUM_JOINTS, 3))
    glob[:, 0] = local_rot[:, 0]
    for j in range(1, NUM_JOINTS):
        p = SKELETON_PARENTS[j]
        pos[:, j] = pos[:, p] + glob[:, p] @ offsets[j]
        glob[:, j] = glob[:, p] @ local_rot[:, j]
    return pos


# ---------------------------------------------------------------------------- motions
class _Angles:
    """Per-joint Euler angles in degrees (flex about y, abduction about x, twist about z)
    in convenient, side-aware conventions, converted to rotation matrices at the end."""

    def __init__(self, t):
        self.t = t
        n = len(t)
        self.ax = np.zeros((n, NUM_JOINTS))
        self.ay = np.zeros((n, NUM_JOINTS))
        self.az = np.zeros((n, NUM_JOINTS))
        self.pitch = np.zeros(n)  # pelvis forward tilt
        self.roll = np.zeros(n)
        self.yaw = np.zeros(n)    # heading (radians, world)

    # thigh angle: forward from the pelvis' vertical; knee flexion >= 0
    def leg(self, side, thigh, knee, abd=0.0):
        hip, kn = (1, 2) if side == 'r' else (4, 5)
        self.ay[:, hip] += -thigh
        self.ay[:, kn] += knee
        self.ax[:, hip] += abd if side == 'l' else -abd

    # shoulder flexion forward/up, abduction sideways/up, elbow flexion, elbow side swing
    def arm(self, side, flex, abd, elbow, elbow_side=0.0, twist=0.0):
        sh, el = (11, 12) if side == 'l' else (14, 15)
        sign = 1.0 if side == 'l' else -1.0
        self.ay[:, sh] += -flex
        self.ax[:, sh] += sign * abd
        self.az[:, sh] += sign * twist
        self.ay[:, el] += -elbow
        self.ax[:, el] += sign * elbow_side

    def rotations(self):
        d = np.pi / 180.0
        ay = self.ay.copy()
        # legs hang from the pelvis: compensate its tilt so 'thigh' is relative to vertical
        ay[:, 1] -= self.pitch
        ay[:, 4] -= self.pitch
        rot = _rot_z(self.az * d) @ _rot_y(ay * d) @ _rot_x(self.ax * d)
        rot[:, 0] = (_rot_z(self.yaw) @ _rot_y(self.pitch * d) @ _rot_x(self.roll * d)
                     @ _rot_z(self.az[:, 0] * d))
        return rot


def _motion_walking(a, rng, style):
    t = a.t
    fc = rng.uniform(0.85, 1.0) * style['speed']            # gait cycles per second
    amp = rng.uniform(18, 24) * style['amp']
    psi = 2 * np.pi * fc * t + rng.uniform(0, 2 * np.pi)
    s, c = np.sin(psi), np.cos(psi)
    for side, sg in (('r', 1.0), ('l', -1.0)):
        ss, cc = sg * s, sg * c
        a.leg(side, thigh=3 + amp * ss, knee=6 + 55 * np.clip(cc, 0, None) ** 2 + 4 * (1 - ss),
              abd=2.0)
        a.arm('l' if side == 'r' else 'r', flex=0.9 * amp * ss, abd=8, elbow=18 + 10 * (1 + ss))
    a.pitch += 5 + 1.5 * np.cos(2 * psi)
    a.roll += 3 * s
    a.az[:, 0] += 6 * s                                     # pelvis rotation
    a.az[:, 8] -= 8 * s                                     # thorax counter-rotation
    a.ay[:, 9] += 5
    return dict(locomotion=True, gait=(fc, amp))


def _motion_sitting(a, rng, style):
    t = a.t
    env = _episodes(t, rng.uniform(4.0, 6.0), rng.uniform(0, 2 * np.pi))
    depth = rng.uniform(0.9, 1.0)
    e = env * depth
    a.pitch += 3 + 22 * e * (1 - 0.4 * e)                   # leans forward, then back
    a.leg('r', thigh=88 * e, knee=4 + 88 * e, abd=3 + 6 * e)
    a.leg('l', thigh=88 * e, knee=4 + 88 * e, abd=3 + 6 * e)
    a.ay[:, 7] += 6 * e
    a.ay[:, 9] += 10 * e
    for side in 'lr':
        a.arm(side, flex=5 + 35 * e, abd=8 + 5 * e, elbow=10 + 55 * e)
    return dict()


def _motion_waving(a, rng, style):
    t = a.t
    side = 'r' if rng.random() < 0.6 else 'l'
    other = 'l' if side == 'r' else 'r'
    env = _episodes(t, rng.uniform(3.0, 4.5), rng.uniform(0, 2 * np.pi))
    f = rng.uniform(1.6, 2.6)
    wave = rng.uniform(20, 35) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    a.arm(side, flex=5 + 20 * env, abd=8 + rng.uniform(75, 95) * env,
          elbow=15 * (1 - env), elbow_side=(rng.uniform(75, 100) + wave) * env)
    a.arm(other, flex=5, abd=8, elbow=15)
    for leg in 'lr':
        a.leg(leg, thigh=2, knee=5, abd=4)
    a.roll += 3 * env * (1 if side == 'l' else -1)
    a.az[:, 8] += 6 * env * np.sin(2 * np.pi * f * t)
    a.ay[:, 9] -= 5 * env
    return dict()


def _motion_turning(a, rng, style):
    t = a.t
    rate = rng.uniform(60, 120) * np.sign(rng.random() - 0.5)  # deg/s
    f = rng.uniform(0.2, 0.4)
    a.yaw += np.deg2rad(rate * t + 25 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)))
    fs = rng.uniform(0.8, 1.1)
    psi = 2 * np.pi * fs * t + rng.uniform(0, 2 * np.pi)
    for side, sg in (('r', 1.0), ('l', -1.0)):
        lift = np.clip(sg * np.sin(psi), 0, None) ** 2
        a.leg(side, thigh=3 + 18 * lift, knee=6 + 35 * lift, abd=4 + 4 * lift)
        a.arm(side, flex=8, abd=12 + 6 * lift, elbow=25)
    a.az[:, 8] += 10 * np.sin(2 * np.pi * f * t)
    a.pitch += 4
    return dict()


def _motion_crouching(a, rng, style):
    t = a.t
    env = _episodes(t, rng.uniform(2.5, 4.0), rng.uniform(0, 2 * np.pi))
    e = env * rng.uniform(0.85, 1.0)
    a.pitch += 3 + 32 * e
    for side in 'lr':
        a.leg(side, thigh=82 * e, knee=5 + 105 * e, abd=4 + 10 * e)
        a.arm(side, flex=5 + rng.uniform(40, 70) * e, abd=8 + 5 * e, elbow=15 + 20 * e)
    a.ay[:, 7] += 8 * e
    a.ay[:, 9] -= 20 * e                                   # keep looking ahead
    return dict()


def _motion_reaching(a, rng, style):
    t = a.t
    period = rng.uniform(2.2, 3.2)
    ph = rng.uniform(0, 2 * np.pi)
    env_r = _episodes(t, 2 * period, ph)
    env_l = _episodes(t, 2 * period, ph + np.pi)
    for side, env in (('r', env_r), ('l', env_l)):
        a.arm(side, flex=5 + rng.uniform(70, 150) * env, abd=8 + rng.uniform(0, 35) * env,
              elbow=25 * (1 - env) + 5, twist=10 * env)
    lean = env_r + env_l
    a.pitch += 3 + 10 * lean
    a.ay[:, 7] += 8 * lean
    a.az[:, 7] += 12 * (env_l - env_r)
    for leg in 'lr':
        a.leg(leg, thigh=2 + 6 * lean, knee=5 + 10 * lean, abd=5)
    return dict()


def _motion_jumping(a, rng, style):
    t = a.t
    period = rng.uniform(1.0, 1.4)
    s = np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    air = np.clip(s - 0.4, 0, None) ** 2 / 0.36
    crouch = np.clip(-s, 0, None) ** 1.5
    a.pitch += 4 + 28 * crouch
    for side in 'lr':
        a.leg(side, thigh=5 + 65 * crouch + 8 * air, knee=6 + 80 * crouch + 10 * air, abd=5)
        a.arm(side, flex=-25 * crouch + 140 * air, abd=10 + 10 * air, elbow=20)
    a.ay[:, 9] -= 15 * crouch
    return dict(jump=rng.uniform(150, 280) * air)


_MOTIONS = {
    'walking': _motion_walking, 'sittingdown': _motion_sitting, 'waving': _motion_waving,
    'turning': _motion_turning, 'crouching': _motion_crouching, 'reaching': _motion_reaching,
    'jumping': _motion_jumping,
}


def _motion_fn(action: str):
    key = ''.join(ch for ch in action.lower() if ch.isalpha())
    for name, fn in _MOTIONS.items():
        if key.startswith(name) or name.startswith(key):
            return fn
    # unknown names get a motion picked deterministically from their name
    names = sorted(_MOTIONS)
    return _MOTIONS[names[sum(map(ord, key)) % len(names)]]


def generate_world_motion(subject, action: str, subaction: int, n_frames: int,
                          seed: int = 0, action_index: Optional[int] = None) -> np.ndarray:
    """3D joint positions (n_frames, 17, 3) float64 in world millimetres (z up, floor z=0).

    Deterministic in (seed, subject, action_index, subaction); ``action_index`` (0-based)
    defaults to the action's position in :data:`DEFAULT_ACTIONS`.
    """
    if action_index is None:
        known = DEFAULT_ACTIONS + ('Reaching',)
        action_index = known.index(action) if action in known else 0
    sub = subject_number(subject)
    srng = _rng(seed, sub, 102)                       # subject style
    style = dict(amp=srng.uniform(0.85, 1.15), speed=srng.uniform(0.9, 1.1))
    rng = _rng(seed, sub, action_index, subaction, 103)
    t = np.arange(n_frames) / FPS
    a = _Angles(t)
    a.yaw += rng.uniform(-np.pi, np.pi)
    extra = _motion_fn(action)(a, rng, style)

    # smooth idiosyncratic noise on every joint angle
    n_ang = 3 * NUM_JOINTS
    noise = np.stack([_smooth_noise(rng, t, 2.0) for _ in range(n_ang)], 1)
    a.ax += noise[:, :NUM_JOINTS]
    a.ay += noise[:, NUM_JOINTS:2 * NUM_JOINTS]
    a.az += 0.7 * noise[:, 2 * NUM_JOINTS:]
    a.pitch += _smooth_noise(rng, t, 1.5)
    a.roll += _smooth_noise(rng, t, 1.0)

    bones = subject_bone_lengths(subject, seed)
    offsets = _BONE_DIRS * bones[:, None]
    if extra.get('locomotion'):
        # walk along a circle around the centre, heading along the tangent
        fc, amp = extra['gait']
        leg = bones[2] + bones[3]
        speed = 0.85 * fc * 4 * leg * np.sin(np.deg2rad(amp))      # mm / s
        radius = rng.uniform(1100, 1400)
        centre = rng.uniform(-150, 150, 2)
        direction = 1.0 if rng.random() < 0.5 else -1.0
        phi = rng.uniform(-np.pi, np.pi) + direction * speed * t / radius
        a.yaw = phi + direction * np.pi / 2 + np.deg2rad(_smooth_noise(rng, t, 2.0))
        path = centre + radius * np.stack([np.cos(phi), np.sin(phi)], 1)
    rel = _forward_kinematics(a.rotations(), offsets)
    ankles = rel[:, [3, 6]]
    root = np.empty((n_frames, 3))
    root[:, 2] = _ANKLE_HEIGHT * bones[3] / _BONE_LENGTHS[3] - _softmin(ankles[..., 2], 1)
    root[:, 2] += extra.get('jump', 0.0)
    if extra.get('locomotion'):
        root[:, :2] = path
    else:
        # feet stay put: the root moves so that the midpoint of the ankles is fixed
        anchor = rng.uniform(-500, 500, 2)
        root[:, :2] = anchor - ankles[..., :2].mean(1) + _smooth_noise(rng, t, 8.0)[:, None]
    return rel + root[:, None]


# ---------------------------------------------------------------------------- cameras / noise
def _project(world, camera):
    rot, centre = camera_extrinsics(camera)
    cam = (world - centre) @ rot.T
    f = np.asarray(camera['focal'], dtype=np.float64)
    c = np.asarray(camera['center'], dtype=np.float64)
    uv = cam[..., :2] / cam[..., 2:3] * f + c
    return cam, uv


def _detector_noise(rng, n_frames, rho=0.85, outlier_rate=0.004):
    """Detector-like 2D error (T,17,2): AR(1) jitter plus outliers of 1-3 frames."""
    std = _JITTER_STD * rng.uniform(0.7, 1.3)
    innov = rng.standard_normal((n_frames, NUM_JOINTS, 2)) * std[:, None]
    innov *= np.sqrt(1 - rho ** 2)
    err = np.empty_like(innov)
    err[0] = innov[0] / np.sqrt(1 - rho ** 2)
    # AR(1) by a geometric-kernel recursion, written as a short loop over time
    for i in range(1, n_frames):
        err[i] = rho * err[i - 1] + innov[i]
    starts = rng.random((n_frames, NUM_JOINTS)) < outlier_rate
    ti, ji = np.nonzero(starts)
    if len(ti):
        dur = rng.integers(1, 4, len(ti))
        mag = rng.uniform(20, 60, len(ti))
        ang = rng.uniform(0, 2 * np.pi, len(ti))
        disp = mag[:, None] * np.stack([np.cos(ang), np.sin(ang)], 1)
        for d in range(3):
            keep = (dur > d) & (ti + d < n_frames)
            np.add.at(err, (ti[keep] + d, ji[keep]), disp[keep])
    return err


def _confidence(rng, err):
    mag = np.linalg.norm(err, axis=-1)
    conf = np.exp(-mag / 14.0) + 0.04 * rng.standard_normal(mag.shape)
    return np.clip(conf, 0.05, 1.0)


# ---------------------------------------------------------------------------- dataset
def _sequence_length(seed, sub, act_idx, subact, frames_per_video):
    rng = _rng(seed, sub, act_idx, subact, 104)
    hi = max(int(np.floor(frames_per_video * _LENGTH_SPREAD)), frames_per_video)
    return int(rng.integers(frames_per_video, hi + 1))


def _make_split(subjects, actions, subactions, frames_per_video, cameras, seed, want_world):
    parts = {k: [] for k in ('joint_2d', 'confidence', 'joint3d_image', '2.5d_factor')}
    names, sources, acts, worlds, cams_xyz = [], [], [], [], []
    n_videos = 0
    for subject in subjects:
        sub = subject_number(subject)
        for act_idx, action in enumerate(actions):
            action_str = str(action)
            for subact in range(1, subactions + 1):
                n = _sequence_length(seed, sub, act_idx, subact, frames_per_video)
                world = generate_world_motion(subject, action_str, subact, n, seed, act_idx)
                for cam_idx, camera in enumerate(cameras, start=1):
                    cam, uv = _project(world, camera)
                    w, h = camera['size']
                    if (cam[..., 2] < 500).any() or (uv < 0).any() or (uv[..., 0] >= w).any() \
                            or (uv[..., 1] >= h).any():
                        raise RuntimeError(
                            f'synthetic subject {subject} {action_str} leaves the view of '
                            f"camera {camera['name']}; move the camera further away")
                    rng = _rng(seed, sub, act_idx, subact, cam_idx, 105)
                    err = _detector_noise(rng, n)
                    conf = _confidence(rng, err)
                    f_mean = float(np.mean(camera['focal']))
                    factor = cam[:, ROOT, 2] / f_mean                       # mm per pixel
                    img = np.empty((n, NUM_JOINTS, 3))
                    img[..., :2] = uv
                    img[..., 2] = (cam[..., 2] - cam[:, ROOT:ROOT + 1, 2]) / factor[:, None]
                    parts['joint_2d'].append(uv + err)
                    parts['confidence'].append(conf)
                    parts['joint3d_image'].append(img)
                    parts['2.5d_factor'].append(factor)
                    src = (f's_{sub:02d}_act_{act_idx + 2:02d}_subact_{subact:02d}'
                           f'_ca_{cam_idx:02d}')
                    names.append((str(camera['name']), n))
                    sources.append((src, n))
                    acts.append((action_str, n))
                    n_videos += 1
                    if want_world:
                        worlds.append(world)
                        cams_xyz.append(cam)
    out = {k: np.concatenate(v).astype(np.float32) for k, v in parts.items()}
    # joints_2.5d_image from the stored float32 arrays so the identity holds exactly
    out['joints_2.5d_image'] = out['joint3d_image'] * out['2.5d_factor'][:, None, None]
    total = len(out['2.5d_factor'])
    for key, items in (('camera_name', names), ('source', sources), ('action', acts)):
        out[key] = object_column(items, total)
    ordered = {k: out[k] for k in ('joint_2d', 'confidence', 'joint3d_image', 'camera_name',
                                   'source', 'action', '2.5d_factor', 'joints_2.5d_image')}
    world = None
    if want_world:
        world = dict(joint3d_world=np.concatenate(worlds), joint3d_camera=np.concatenate(cams_xyz))
    return ordered, world, n_videos


def generate_synthetic_h36m(seed: int = 0,
                            train_subjects: Sequence = H36M_TRAIN_SUBJECTS,
                            test_subjects: Sequence = H36M_TEST_SUBJECTS,
                            actions: Sequence[str] = DEFAULT_ACTIONS,
                            subactions: int = 2,
                            frames_per_video: int = DEFAULT_FRAMES_PER_VIDEO,
                            cameras: Sequence[Dict] = DEFAULT_CAMERAS,
                            return_world: bool = False):
    """Build the SYNTHETIC dataset dict ``{'train': {...}, 'test': {...}}``.

    Args:
        seed: everything is a deterministic function of the seed (same seed, same arrays).
        train_subjects / test_subjects: subject ids like ``'S9'``; must be disjoint.
        actions: action names; ``Walking``, ``SittingDown``, ``Waving``, ``Turning``,
            ``Crouching``, ``Reaching`` and ``Jumping`` have their own motions. Action i
            (0-based) is ``act_{i+2:02d}`` in ``source``, as in Human3.6M's numbering.
        subactions: recordings per (subject, action).
        frames_per_video: shortest video; each (subject, action, subaction) gets a length
            drawn in ``[frames_per_video, 1.4 * frames_per_video]``, the same for its cameras.
        cameras: dicts with ``name``, ``size`` (w, h), ``focal`` (fx, fy), ``center``
            (cx, cy), ``position`` and ``target`` (world mm); see :data:`DEFAULT_CAMERAS`.
        return_world: also return, per split, the world-space 3D joints
            (``joint3d_world``) and camera-space 3D joints (``joint3d_camera``), both
            (N,17,3) float64 in mm aligned with the split's frames, plus the cameras.

    Returns:
        dict, or ``(dict, world)`` when ``return_world``.
    """
    if frames_per_video < 1:
        raise ValueError(f'frames_per_video must be >= 1, got {frames_per_video}')
    if subactions < 1:
        raise ValueError(f'subactions must be >= 1, got {subactions}')
    if not actions or not cameras:
        raise ValueError('need at least one action and one camera')
    train_ids = {subject_number(s) for s in train_subjects}
    test_ids = {subject_number(s) for s in test_subjects}
    if train_ids & test_ids:
        raise ValueError(f'train and test subjects overlap: {sorted(train_ids & test_ids)}')
    data, world = {}, {'cameras': [dict(c) for c in cameras]}
    for split, subjects in (('train', train_subjects), ('test', test_subjects)):
        data[split], world[split], _ = _make_split(subjects, actions, subactions,
                                                   frames_per_video, cameras, seed,
                                                   return_world)
    return (data, world) if return_world else data
