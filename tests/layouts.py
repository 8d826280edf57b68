"""Tiny files in the public dataset layouts (real keys, shapes and dtypes), built in tmp dirs.

- VideoPose3D: ``data_3d_h36m.npz`` (``positions_3d[subject][action]`` (N, 32, 3) float32 world
  metres) and a 2D file (``positions_2d[subject][action]`` = 4 arrays (N, 17, 2) float32
  pixels, ``metadata``).
- P-STMO's MPI-INF-3DHP npz: ``data`` = {'TS1': {'data_3d', 'data_2d', 'valid'}} (test) or
  {'S1 Seq1': [{camera: {'data_3d', 'data_2d'}}]} (train).
"""
import numpy as np

from dualpose.datasets.datasets.h36m_vp3d import H36M_32_TO_17
from dualpose.datasets.h36m_cameras import (H36M_CAMERA_IDS, h36m_camera, project_to_pixels,
                                            world_to_camera)
from dualpose.datasets.synthetic.legacy import generate_world_motion

VP3D_METADATA = {'layout_name': 'h36m', 'num_joints': 17,
                 'keypoints_symmetry': [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
VP3D_ACTIONS = {'Walking': ('Walking', 1), 'Walking 1': ('Walking', 2),
                'Eating': ('Crouching', 1)}  # VP3D name -> (synthetic motion, take)


def world_32(action: str, take: int, subject: str, frames: int) -> np.ndarray:
    """(frames, 32, 3) float64 world mm: a synthetic motion at the 17 kept joints, the other 15
    joints near the pelvis (the loader drops them)."""
    motion = generate_world_motion(subject, action, take, frames, seed=1)
    out = np.repeat(motion[:, :1], 32, axis=1) + 15.0
    out[:, list(H36M_32_TO_17)] = motion
    return out


def vp3d_arrays(subjects=('S1', 'S9'), frames=20, actions=VP3D_ACTIONS, noise=0.0, seed=0):
    """positions_3d (metres, float32) and positions_2d (pixels, float32) dicts."""
    rng = np.random.default_rng(seed)
    pos3d, pos2d = {}, {}
    for s_idx, subject in enumerate(subjects):
        pos3d[subject], pos2d[subject] = {}, {}
        for a_idx, (name, (motion, take)) in enumerate(actions.items()):
            world = world_32(motion, take, subject, frames + a_idx)  # unequal lengths
            pos3d[subject][name] = (world / 1000.0).astype(np.float32)
            views = []
            for camera_id in H36M_CAMERA_IDS:
                camera = h36m_camera(subject, camera_id)
                cam = world_to_camera(pos3d[subject][name][:, list(H36M_32_TO_17)] * 1000.0,
                                      camera)
                uv = project_to_pixels(cam, camera)
                views.append((uv + noise * rng.standard_normal(uv.shape)).astype(np.float32))
            pos2d[subject][name] = views
    return pos3d, pos2d


def write_vp3d(folder, subjects=('S1', 'S9'), frames=20, pos3d=None, pos2d=None,
               metadata=VP3D_METADATA, name_2d='data_2d_h36m_cpn_ft_h36m_dbb.npz', noise=2.0):
    """Write ``data_3d_h36m.npz`` and a 2D file; returns their paths."""
    if pos3d is None or pos2d is None:
        a3, a2 = vp3d_arrays(subjects, frames, noise=noise)
        pos3d = a3 if pos3d is None else pos3d
        pos2d = a2 if pos2d is None else pos2d
    path_3d, path_2d = folder / 'data_3d_h36m.npz', folder / name_2d
    np.savez_compressed(path_3d, positions_3d=pos3d)
    extra = {} if metadata is None else dict(metadata=metadata)
    np.savez_compressed(path_2d, positions_2d=pos2d, **extra)
    return str(path_3d), str(path_2d)


def mpi_pose(frames: int, rng, scale=1.0) -> np.ndarray:
    """(frames, 17, 3) camera-space mm in the MPI test order (pelvis 14), about 4 m away."""
    base = np.array([
        [0, -750, 0], [0, -550, 0], [-180, -500, 0], [-300, -250, 0], [-320, 0, 0],
        [180, -500, 0], [300, -250, 0], [320, 0, 0], [-120, 0, 0], [-130, 430, 0],
        [-140, 850, 0], [120, 0, 0], [130, 430, 0], [140, 850, 0], [0, 0, 0], [0, -250, 0],
        [0, -650, 30]], dtype=np.float64) * scale
    t = np.arange(frames)[:, None, None]
    motion = 20 * np.sin(0.3 * t + np.arange(17)[None, :, None]) * [1, 1, 1]
    return base[None] + motion + [0, 0, 4000] + rng.normal(scale=3.0, size=(frames, 17, 3))


def mpi_project(pose: np.ndarray, size) -> np.ndarray:
    w, h = size
    focal = 1500.0
    return pose[..., :2] / pose[..., 2:] * focal + [w / 2, h / 2]


def mpi_test_data(lengths=None, seed=0):
    """The test layout: TS1 (2048x2048) and TS5 (1920x1080) with some invalid frames."""
    rng = np.random.default_rng(seed)
    lengths = lengths or {'TS1': 30, 'TS5': 24}
    data = {}
    for seq, n in lengths.items():
        size = (1920, 1080) if seq in ('TS5', 'TS6') else (2048, 2048)
        pose = mpi_pose(n, rng)
        valid = np.ones(n, dtype=np.float64)
        valid[:3] = 0  # the first frames of a sequence are often flagged invalid
        data[seq] = dict(data_3d=pose.astype(np.float32),
                         data_2d=mpi_project(pose, size).astype(np.float32), valid=valid)
    return data


def mpi_train_data(seed=0, frames=30):
    rng = np.random.default_rng(seed)
    data = {}
    for seq in ('S1 Seq1', 'S2 Seq2'):
        cams = {}
        for cam in (0, 2):
            pose = mpi_pose(frames, rng)
            cams[cam] = dict(data_3d=pose.astype(np.float32),
                             data_2d=mpi_project(pose, (2048, 2048)).astype(np.float32))
        data[seq] = [cams]
    return data


def write_mpi(path, data):
    np.savez_compressed(path, data=data)
    return str(path)
