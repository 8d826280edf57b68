"""BVH export: a skeleton with fixed bone lengths fitted to lifted 3D positions, one file per
person, for Blender and other animation tools.

The fit:

- **bone lengths**: the median over frames of each bone's length in the positions given (so
  they stay fixed; the lifted output's own lengths vary a little from frame to frame);
- **rest pose** (the BVH ``OFFSET`` of each joint): each bone's median direction in its parent
  joint's frame, at the fixed length;
- **per frame**: the root's position, and per joint the rotation that best turns its child
  bones' rest offsets onto the observed directions from its fitted position (the Kabsch
  rotation; exact for a joint with one child, a least-squares fit for the pelvis and thorax
  with three), then expressed relative to the parent joint and written as Euler angles
  (``Zrotation Xrotation Yrotation``).

Axes and units of the file: Y up, metres (what Blender's BVH importer expects): the camera
frame's ``(x, y, z)`` (x right, y down, z forward, mm) is written as ``(x, -y, -z) / 1000``
(a rotation of 180 degrees about x). :func:`read_bvh` and :func:`bvh_positions` read a file
back (positions in the same camera frame and mm), for the round trip.
"""
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ['fit_skeleton', 'skeleton_positions', 'write_bvh', 'read_bvh', 'bvh_positions',
           'euler_zxy', 'matrix_from_euler']

_TO_BVH = np.diag([1.0, -1.0, -1.0])   # camera frame -> BVH's Y-up frame
_CHANNEL_ORDER = ('Z', 'X', 'Y')


def _axis_matrix(axis: str, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(np.shape(angle) + (3, 3))
    i = 'XYZ'.index(axis)
    j, k = [a for a in range(3) if a != i]
    m[..., i, i] = 1
    m[..., j, j], m[..., j, k], m[..., k, j], m[..., k, k] = c, -s, s, c
    if axis == 'Y':   # right-handed rotation about y: z -> x
        m[..., j, k], m[..., k, j] = s, -s
    return m


def matrix_from_euler(angles_deg: np.ndarray, order: Sequence[str] = _CHANNEL_ORDER
                      ) -> np.ndarray:
    """(..., 3) angles in degrees, in channel order -> (..., 3, 3): ``R = R_1 R_2 R_3``, the
    BVH convention (a child's vector ``v`` is ``R v`` in its parent's frame)."""
    a = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    out = np.broadcast_to(np.eye(3), a.shape[:-1] + (3, 3)).copy()
    for n, axis in enumerate(order):
        out = out @ _axis_matrix(axis, a[..., n])
    return out


def euler_zxy(r: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations -> (..., 3) degrees ``(z, x, y)`` with ``R = Rz Rx Ry``."""
    x = np.arcsin(np.clip(r[..., 2, 1], -1.0, 1.0))
    cx = np.cos(x)
    ok = cx > 1e-6
    y = np.where(ok, np.arctan2(-r[..., 2, 0], r[..., 2, 2]), 0.0)
    z = np.where(ok, np.arctan2(-r[..., 0, 1], r[..., 1, 1]),
                 np.arctan2(r[..., 1, 0], r[..., 0, 0]))
    return np.rad2deg(np.stack([z, x, y], -1))


def _kabsch(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(T, K, 3) rest vectors, (T, K, 3) targets -> (T, 3, 3) the rotation R minimising
    sum ||R src - dst||^2 (proper, det +1). One vector: the shortest rotation onto it."""
    if src.shape[1] == 1:
        a = src[:, 0] / np.linalg.norm(src[:, 0], axis=-1, keepdims=True)
        b = dst[:, 0] / np.maximum(np.linalg.norm(dst[:, 0], axis=-1, keepdims=True), 1e-12)
        v = np.cross(a, b)
        c = (a * b).sum(-1)
        vx = np.zeros(a.shape[:1] + (3, 3))
        vx[:, 0, 1], vx[:, 0, 2], vx[:, 1, 2] = -v[:, 2], v[:, 1], -v[:, 0]
        vx[:, 1, 0], vx[:, 2, 0], vx[:, 2, 1] = v[:, 2], -v[:, 1], v[:, 0]
        k = 1.0 / np.maximum(1.0 + c, 1e-9)
        r = np.eye(3) + vx + vx @ vx * k[:, None, None]
        flip = c < -1 + 1e-9   # opposite: half a turn about any axis normal to a
        if flip.any():
            n = np.cross(a[flip], [1.0, 0.0, 0.0])
            n[np.linalg.norm(n, axis=-1) < 1e-6] = np.cross(a[flip], [0.0, 1.0, 0.0])[
                np.linalg.norm(n, axis=-1) < 1e-6]
            n /= np.linalg.norm(n, axis=-1, keepdims=True)
            r[flip] = 2 * n[:, :, None] * n[:, None, :] - np.eye(3)
        return r
    h = np.einsum('tki,tkj->tij', src, dst)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.transpose(0, 2, 1) @ u.transpose(0, 2, 1)))
    d = np.where(d == 0, 1.0, d)
    fix = np.broadcast_to(np.eye(3), h.shape).copy()
    fix[:, 2, 2] = d
    return vt.transpose(0, 2, 1) @ fix @ u.transpose(0, 2, 1)


def _tree(links: Sequence[Tuple[int, int]], num_joints: int, root: int):
    parents = [-1] * num_joints
    children: Dict[int, List[int]] = {j: [] for j in range(num_joints)}
    adj: Dict[int, List[int]] = {j: [] for j in range(num_joints)}
    for a, b in links:
        adj[a].append(b)
        adj[b].append(a)
    order, stack, seen = [], [root], {root}
    while stack:
        j = stack.pop(0)
        order.append(j)
        for c in adj[j]:
            if c not in seen:
                seen.add(c)
                parents[c] = j
                children[j].append(c)
                stack.append(c)
    if len(order) != num_joints:
        raise ValueError(f'the skeleton links do not connect all {num_joints} joints to the '
                         f'root {root}: a BVH needs one tree')
    return parents, children, order


def fit_skeleton(positions: np.ndarray, links: Sequence[Tuple[int, int]], root: int = 0
                 ) -> dict:
    """Fit a fixed-bone-length skeleton to (T, J, 3) positions (mm, camera frame; frames with
    NaN are left out and written as the nearest fitted frame).

    Returns:
        dict: ``parents``, ``children``, ``order`` (the tree), ``offsets`` (J, 3) rest
        offsets in the BVH frame (mm), ``root_position`` (T, 3) and ``rotations``
        (T, J, 3, 3) local rotations (BVH frame), ``bone_lengths`` (J,) mm, ``valid`` (T,).
    """
    pos = np.asarray(positions, dtype=np.float64)
    t_all, num_joints = pos.shape[:2]
    valid = np.isfinite(pos).all((1, 2))
    if not valid.any():
        raise ValueError('fit_skeleton: every frame is NaN: nothing to fit')
    idx = np.flatnonzero(valid)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(t_all)), 0, len(idx) - 1)]
    pos = pos[nearest] @ _TO_BVH.T
    parents, children, order = _tree(links, num_joints, root)
    lengths = np.zeros(num_joints)
    for j in range(num_joints):
        if parents[j] >= 0:
            lengths[j] = np.median(np.linalg.norm(pos[:, j] - pos[:, parents[j]], axis=-1))
    lengths = np.maximum(lengths, 1e-3)
    # rest directions: per joint, its child bones' median directions in a frame of the joint
    # (the frame that turns the first frame's child vectors onto themselves is iterated once:
    # the global rotation from the first frame's configuration, then the median there)
    offsets = np.zeros((num_joints, 3))
    for j in order:
        kids = children[j]
        if not kids:
            continue
        vec = np.stack([pos[:, c] - pos[:, j] for c in kids], 1)          # (T, K, 3)
        unit = vec / np.maximum(np.linalg.norm(vec, axis=-1, keepdims=True), 1e-9)
        if len(kids) == 1:
            ref = unit[0:1]
        else:
            ref = unit[0:1]
            for _ in range(2):   # align every frame to the reference, take the median
                rot = _kabsch(np.broadcast_to(ref, unit.shape), unit)
                local = np.einsum('tji,tkj->tki', rot, unit)
                ref = np.median(local, 0, keepdims=True)
                ref /= np.linalg.norm(ref, axis=-1, keepdims=True)
        for n, c in enumerate(kids):
            offsets[c] = ref[0, n] * lengths[c]
    # per frame: global rotations, fitted positions from the root down
    glob = np.zeros((t_all, num_joints, 3, 3))
    fitted = np.zeros_like(pos)
    fitted[:, root] = pos[:, root]
    for j in order:
        kids = children[j]
        if j != root:
            fitted[:, j] = fitted[:, parents[j]] + np.einsum('tij,j->ti', glob[:, parents[j]],
                                                             offsets[j])
        if not kids:
            glob[:, j] = glob[:, parents[j]] if j != root else np.eye(3)
            continue
        src = np.broadcast_to(np.stack([offsets[c] for c in kids]), (t_all, len(kids), 3))
        dst = np.stack([pos[:, c] - fitted[:, j] for c in kids], 1)
        glob[:, j] = _kabsch(src, dst)
    local = np.zeros_like(glob)
    for j in order:
        p = parents[j]
        local[:, j] = glob[:, j] if p < 0 else glob[:, p].transpose(0, 2, 1) @ glob[:, j]
    return dict(parents=parents, children=children, order=order, offsets=offsets,
                root_position=pos[:, root], rotations=local, bone_lengths=lengths,
                valid=valid)


def skeleton_positions(skeleton: dict) -> np.ndarray:
    """(T, J, 3) positions (mm, camera frame) of a fitted skeleton, by forward kinematics."""
    rot, off = skeleton['rotations'], skeleton['offsets']
    parents, order = skeleton['parents'], skeleton['order']
    t_all, num_joints = rot.shape[:2]
    glob = np.zeros_like(rot)
    pos = np.zeros((t_all, num_joints, 3))
    for j in order:
        p = parents[j]
        if p < 0:
            glob[:, j], pos[:, j] = rot[:, j], skeleton['root_position']
        else:
            glob[:, j] = glob[:, p] @ rot[:, j]
            pos[:, j] = pos[:, p] + np.einsum('tij,j->ti', glob[:, p], off[j])
    return pos @ _TO_BVH   # _TO_BVH is its own inverse


def write_bvh(path_or_file, skeleton: dict, joint_names: Sequence[str], fps: float,
              end_site_mm: float = 50.0) -> None:
    """Write a fitted skeleton (:func:`fit_skeleton`) as BVH (Y up, metres)."""
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f'write_bvh: fps must be > 0, got {fps!r}')
    parents, children = skeleton['parents'], skeleton['children']
    off = skeleton['offsets'] / 1000.0
    root = skeleton['order'][0]
    names = [re.sub(r'\W+', '_', str(n)) for n in joint_names]
    lines = ['HIERARCHY']
    channel_joints = []

    def emit(j, depth):
        pad = '  ' * depth
        kind = 'ROOT' if parents[j] < 0 else 'JOINT'
        lines.append(f'{pad}{kind} {names[j]}')
        lines.append(f'{pad}{{')
        o = off[j] if parents[j] >= 0 else np.zeros(3)
        lines.append(f'{pad}  OFFSET {o[0]:.6f} {o[1]:.6f} {o[2]:.6f}')
        rot_channels = ' '.join(f'{a}rotation' for a in _CHANNEL_ORDER)
        if parents[j] < 0:
            lines.append(f'{pad}  CHANNELS 6 Xposition Yposition Zposition {rot_channels}')
        else:
            lines.append(f'{pad}  CHANNELS 3 {rot_channels}')
        channel_joints.append(j)
        if children[j]:
            for c in children[j]:
                emit(c, depth + 1)
        else:   # a leaf: a short end site along its bone
            d = off[j] / max(np.linalg.norm(off[j]), 1e-9) * end_site_mm / 1000.0
            lines.append(f'{pad}  End Site')
            lines.append(f'{pad}  {{')
            lines.append(f'{pad}    OFFSET {d[0]:.6f} {d[1]:.6f} {d[2]:.6f}')
            lines.append(f'{pad}  }}')
        lines.append(f'{pad}}}')

    emit(root, 0)
    rot = skeleton['rotations']
    euler = euler_zxy(rot)
    root_pos = skeleton['root_position'] / 1000.0
    lines += ['MOTION', f'Frames: {len(rot)}', f'Frame Time: {1.0 / fps:.8f}']
    for t in range(len(rot)):
        values = []
        for j in channel_joints:
            if parents[j] < 0:
                values += list(root_pos[t])
            values += list(euler[t, j])
        lines.append(' '.join(f'{v:.6f}' for v in values))
    text = '\n'.join(lines) + '\n'
    if hasattr(path_or_file, 'write'):
        path_or_file.write(text)
    else:
        with open(path_or_file, 'w') as f:
            f.write(text)


def read_bvh(path: str) -> dict:
    """A BVH file: ``names``, ``parents``, ``offsets`` (J, 3) file units, ``channels`` (per
    joint, its channel names), ``frames`` (T, C) values, ``frame_time``. End sites are
    skipped."""
    with open(path) as f:
        tokens = f.read().split()
    names, parents, offsets, channels = [], [], [], []
    stack, i, in_end = [], 0, 0
    while tokens[i] != 'MOTION':
        tok = tokens[i]
        if tok in ('ROOT', 'JOINT'):
            names.append(tokens[i + 1])
            parents.append(stack[-1] if stack else -1)
            i += 2
        elif tok == 'End':
            in_end += 1
            i += 2
        elif tok == '{':
            if not in_end:
                stack.append(len(names) - 1)
            i += 1
        elif tok == '}':
            if in_end:
                in_end -= 1
            else:
                stack.pop()
            i += 1
        elif tok == 'OFFSET':
            if not in_end:
                offsets.append([float(v) for v in tokens[i + 1:i + 4]])
            i += 4
        elif tok == 'CHANNELS':
            n = int(tokens[i + 1])
            channels.append(tokens[i + 2:i + 2 + n])
            i += 2 + n
        else:
            i += 1
    num_frames = int(tokens[i + 2])
    frame_time = float(tokens[i + 5])
    values = np.asarray([float(v) for v in tokens[i + 6:]], dtype=np.float64)
    return dict(names=names, parents=parents, offsets=np.asarray(offsets),
                channels=channels, frames=values.reshape(num_frames, -1),
                frame_time=frame_time)


def bvh_positions(bvh: dict, to_camera_mm: bool = True) -> np.ndarray:
    """(T, J, 3) joint positions of a read BVH by forward kinematics, in the channel order
    the file gives; with ``to_camera_mm`` back in the camera frame (mm) this module writes."""
    parents, offsets, frames = bvh['parents'], bvh['offsets'], bvh['frames']
    num, col = len(parents), 0
    glob = np.zeros((len(frames), num, 3, 3))
    pos = np.zeros((len(frames), num, 3))
    for j in range(num):
        chans = bvh['channels'][j]
        vals = frames[:, col:col + len(chans)]
        col += len(chans)
        trans = np.zeros((len(frames), 3))
        rot = np.broadcast_to(np.eye(3), (len(frames), 3, 3)).copy()
        for k, ch in enumerate(chans):
            if ch.endswith('position'):
                trans[:, 'XYZ'.index(ch[0])] = vals[:, k]
            else:
                rot = rot @ _axis_matrix(ch[0], np.deg2rad(vals[:, k]))
        p = parents[j]
        if p < 0:
            pos[:, j] = offsets[j] + trans
            glob[:, j] = rot
        else:
            pos[:, j] = pos[:, p] + np.einsum('tij,j->ti', glob[:, p], offsets[j])
            glob[:, j] = glob[:, p] @ rot
    if to_camera_mm:
        pos = pos @ _TO_BVH * 1000.0
    return pos
