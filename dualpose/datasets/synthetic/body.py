"""Bodies of the synthetic generator: the 17-joint kinematic tree, bone lengths drawn from adult
ranges, and forward kinematics.

Body frame: x forward, y left, z up, millimetres; joints in the H36M order (0 pelvis, 1-3 right
leg, 4-6 left leg, 7 spine, 8 thorax, 9 neck/nose, 10 head top, 11-13 left arm, 14-16 right
arm). Each joint ``j > 0`` ends one bone (from ``PARENTS[j]`` to ``j``); the rotation of joint
``j`` (:func:`forward_kinematics`) turns that bone and everything below it, relative to its
parent bone's frame.
"""
from typing import Dict

import numpy as np

__all__ = ['NUM_JOINTS', 'PARENTS', 'LINKS', 'REST_DIRECTIONS', 'MEAN_BONES', 'HEIGHT_RANGE',
           'draw_body', 'forward_kinematics', 'rotation_matrix', 'euler_zyx', 'standing_height',
           'SURFACE_RADIUS']

NUM_JOINTS = 17
PARENTS = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
LINKS = tuple((p, c) for c, p in enumerate(PARENTS) if p >= 0)
LEFT = (4, 5, 6, 11, 12, 13)
RIGHT = (1, 2, 3, 14, 15, 16)

# rest pose: standing, arms hanging; unit direction of each bone in its parent's frame
REST_DIRECTIONS = np.array([
    [0.0, 0.0, 0.0],      # 0 pelvis (root)
    [0.0, -1.0, -0.08],   # 1 right hip
    [0.0, 0.0, -1.0],     # 2 right knee
    [0.0, 0.0, -1.0],     # 3 right ankle
    [0.0, 1.0, -0.08],    # 4 left hip
    [0.0, 0.0, -1.0],     # 5 left knee
    [0.0, 0.0, -1.0],     # 6 left ankle
    [0.02, 0.0, 1.0],     # 7 spine
    [0.0, 0.0, 1.0],      # 8 thorax
    [0.35, 0.0, 1.0],     # 9 neck / nose
    [-0.15, 0.0, 1.0],    # 10 head (top)
    [-0.05, 1.0, -0.1],   # 11 left shoulder
    [0.0, 0.0, -1.0],     # 12 left elbow
    [0.0, 0.0, -1.0],     # 13 left wrist
    [-0.05, -1.0, -0.1],  # 14 right shoulder
    [0.0, 0.0, -1.0],     # 15 right elbow
    [0.0, 0.0, -1.0],     # 16 right wrist
])
REST_DIRECTIONS[1:] /= np.linalg.norm(REST_DIRECTIONS[1:], axis=1, keepdims=True)

# mean adult bone lengths (mm), close to Human3.6M's subjects (standing height ~1.74 m)
MEAN_BONES = np.array([0.0, 132, 445, 445, 132, 445, 445, 233, 256, 117, 115,
                       150, 280, 250, 150, 280, 250], dtype=np.float64)
ANKLE_HEIGHT = 80.0       # ankle joint above a flat floor for the mean body (mm)
HEIGHT_RANGE = (1450.0, 1950.0)
# distance from each joint to the body's surface (mm, mean body): the floor is touched by the
# surface, not the joint centre
SURFACE_RADIUS = np.array([110, 70, 55, ANKLE_HEIGHT, 70, 55, ANKLE_HEIGHT, 100, 110, 90, 60,
                           55, 40, 35, 55, 40, 35], dtype=np.float64)

_LEGS = (2, 3, 5, 6)
_TRUNK = (7, 8, 9, 10)
_ARMS = (12, 13, 15, 16)


def standing_height(bones: np.ndarray) -> float:
    """Standing height (mm) of a body with bone lengths ``bones`` (17,): its rest pose from the
    floor to the head-top joint, plus ~6 % of the head bone for the skull above it."""
    pos = forward_kinematics(np.broadcast_to(np.eye(3), (1, NUM_JOINTS, 3, 3)), bones)[0]
    ankle = ANKLE_HEIGHT * bones[3] / MEAN_BONES[3]
    return float(pos[10, 2] - pos[[3, 6], 2].min() + ankle + 0.3 * bones[10])


def draw_body(rng: np.random.Generator, height_range=HEIGHT_RANGE) -> Dict[str, np.ndarray]:
    """One adult body: bone lengths (17,) mm and surface radii (17,) mm.

    The standing height is uniform in ``height_range`` (mm); proportions vary independently of
    it: legs and arms relative to the trunk (+-7 %), shoulder and hip widths (+-15 %), thigh vs
    shin and upper arm vs forearm (+-4 %), and each bone by +-2 %, left equal to right.
    """
    lo, hi = height_range
    target = rng.uniform(lo, hi)
    var = np.ones(NUM_JOINTS)
    var[list(_LEGS)] *= rng.uniform(0.93, 1.07)
    var[list(_ARMS)] *= rng.uniform(0.93, 1.07)
    var[[1, 4]] *= rng.uniform(0.85, 1.2)
    var[[11, 14]] *= rng.uniform(0.85, 1.15)
    thigh_shin = rng.uniform(0.96, 1.04)
    var[[2, 5]] *= thigh_shin
    var[[3, 6]] /= thigh_shin
    upper_fore = rng.uniform(0.96, 1.04)
    var[[12, 15]] *= upper_fore
    var[[13, 16]] /= upper_fore
    var *= rng.uniform(0.98, 1.02, NUM_JOINTS)
    for left, right in zip(LEFT, RIGHT):
        var[right] = var[left]
    bones = MEAN_BONES * var
    bones *= target / standing_height(bones)
    scale = bones[1:].sum() / MEAN_BONES[1:].sum()
    return dict(bones=bones, radius=SURFACE_RADIUS * scale, height=target)


# ------------------------------------------------------------------------------ rotations
def rotation_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of rotation vectors (..., 3) (axis * angle, radians)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(rotvec, axis=-1)[..., None, None]
    k = np.zeros(rotvec.shape[:-1] + (3, 3))
    x, y, z = rotvec[..., 0], rotvec[..., 1], rotvec[..., 2]
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -z, y, -x
    k[..., 1, 0], k[..., 2, 0], k[..., 2, 1] = z, -y, x
    small = angle < 1e-8
    safe = np.where(small, 1.0, angle)
    a = np.where(small, 1.0, np.sin(safe) / safe)
    b = np.where(small, 0.5, (1 - np.cos(safe)) / safe ** 2)
    return np.eye(3) + a * k + b * (k @ k)


def _axis(angle, axis):
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    if axis == 0:
        rows = ((o, z, z), (z, c, -s), (z, s, c))
    elif axis == 1:
        rows = ((c, z, s), (z, o, z), (-s, z, c))
    else:
        rows = ((c, -s, z), (s, c, z), (z, z, o))
    return np.stack([np.stack(r, -1) for r in rows], -2)


def euler_zyx(yaw, pitch, roll, spin=None) -> np.ndarray:
    """``Rz(yaw) Ry(pitch) Rx(roll) Rz(spin)`` (radians): heading about the vertical, then a
    forward tilt, a sideways tilt and a turn about the body's own long axis."""
    rot = _axis(np.asarray(yaw, float), 2) @ _axis(np.asarray(pitch, float), 1) \
        @ _axis(np.asarray(roll, float), 0)
    if spin is not None:
        rot = rot @ _axis(np.asarray(spin, float), 2)
    return rot


# ------------------------------------------------------------------------------ kinematics
def forward_kinematics(rotations: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """Joint positions (T, 17, 3) relative to the root, in the frame of joint 0's rotation.

    Args:
        rotations: (T, 17, 3, 3); entry 0 orients the pelvis, entry j > 0 turns bone
            ``PARENTS[j] -> j`` relative to its parent bone.
        bones: (17,) bone lengths in mm (entry 0 unused).
    """
    offsets = REST_DIRECTIONS * np.asarray(bones, dtype=np.float64)[:, None]
    glob = np.empty(rotations.shape)
    pos = np.zeros(rotations.shape[:2] + (3,))
    glob[:, 0] = rotations[:, 0]
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        glob[:, j] = glob[:, p] @ rotations[:, j]
        pos[:, j] = pos[:, p] + glob[:, j] @ offsets[j]
    return pos
