"""Cameras of the synthetic generator: the real Human3.6M rigs, and random rigs for camera
augmentation and for test splits filmed by cameras never used in training.

A camera is a dict in :func:`dualpose.datasets.h36m_cameras.h36m_camera`'s format: ``R`` (3, 3)
camera-to-world rotation, ``T`` (3,) centre in world mm, ``f``, ``c`` (2,) pixels, ``k`` (3,),
``p`` (2,) distortion, ``w``, ``h`` image size, plus ``name``. World: mm, z up, floor at z = 0.
Projection is the one module :mod:`dualpose.datasets.h36m_cameras` owns.
"""
from typing import Dict, List, Sequence

import numpy as np

from dualpose.datasets.h36m_cameras import (H36M_CAMERA_IDS, H36M_EXTRINSICS, h36m_camera,
                                            project_to_pixels, world_to_camera)

__all__ = ['h36m_rig', 'random_camera', 'check_camera_ranges', 'project', 'CAMERA_RANGES',
           'H36M_AREA']

# the floor area the Human3.6M cameras look at: centre (world mm) and radius (mm); the four
# optical axes of every subject's rig pass within ~0.2 m of (0, 350) at ~0.4 m height
H36M_AREA = ((0.0, 350.0), 1500.0)

# ranges of the random cameras: (low, high) per option; image sizes as (w, h) choices
CAMERA_RANGES = dict(
    distance=(3000.0, 8000.0),       # mm from the area centre, horizontally
    height=(500.0, 2500.0),          # mm above the floor
    pitch=(-5.0, 5.0),               # degrees added to looking at the person's middle
    roll=(-5.0, 5.0),                # degrees
    fov=(40.0, 75.0),                # horizontal field of view, degrees
    offset=(-0.25, 0.25),            # where the person is: fraction of the image off-centre
    image_sizes=((1000, 1000), (1000, 1002), (1920, 1080), (1280, 720), (1080, 1920),
                 (720, 1280)),
)


def h36m_rig(subject: str) -> List[Dict]:
    """The four real cameras of a Human3.6M subject (``'S1'`` ... ``'S11'``)."""
    subject = str(subject).upper()
    if subject not in H36M_EXTRINSICS:
        raise ValueError(f'no Human3.6M cameras for subject {subject!r}; the real rigs are '
                         f'{sorted(H36M_EXTRINSICS)}')
    cams = []
    for cam_id in H36M_CAMERA_IDS:
        cam = h36m_camera(subject, cam_id)
        cam['name'] = cam_id
        cams.append(cam)
    return cams


def check_camera_ranges(ranges: Dict) -> Dict:
    """Merge ``ranges`` into :data:`CAMERA_RANGES`; unknown keys and inverted ranges raise."""
    out = dict(CAMERA_RANGES)
    for key, value in (ranges or {}).items():
        if key not in CAMERA_RANGES:
            raise ValueError(f'camera augmentation option {key!r} is unknown; valid: '
                             f'{sorted(CAMERA_RANGES)}')
        if key == 'image_sizes':
            sizes = [tuple(int(v) for v in s) for s in value]
            if not sizes or any(len(s) != 2 or min(s) < 16 for s in sizes):
                raise ValueError(f'camera augmentation image_sizes must be (w, h) pairs of at '
                                 f'least 16 pixels, got {value!r}')
            out[key] = tuple(sizes)
            continue
        lo, hi = (float(v) for v in value)
        if not lo <= hi:
            raise ValueError(f'camera augmentation {key}=({lo}, {hi}) is inverted: expected '
                             'low <= high')
        out[key] = (lo, hi)
    checks = dict(distance=(500.0, 50000.0), height=(0.0, 10000.0), pitch=(-60.0, 60.0),
                  roll=(-45.0, 45.0), fov=(10.0, 150.0), offset=(-0.45, 0.45))
    for key, (lo, hi) in checks.items():
        if out[key][0] < lo or out[key][1] > hi:
            raise ValueError(f'camera augmentation {key}={out[key]} is outside its valid range '
                             f'[{lo}, {hi}]')
    return out


def random_camera(rng: np.random.Generator, ranges: Dict, target: Sequence[float],
                  name: str = 'random') -> Dict:
    """A random pinhole camera (no distortion) looking at ``target`` (world mm)."""
    u = rng.uniform
    w, h = ranges['image_sizes'][int(rng.integers(len(ranges['image_sizes'])))]
    azimuth = u(-np.pi, np.pi)
    dist = u(*ranges['distance'])
    target = np.asarray(target, dtype=np.float64)
    centre = target + np.array([dist * np.cos(azimuth), dist * np.sin(azimuth), 0.0])
    centre[2] = u(*ranges['height'])
    fwd = target - centre
    fwd /= np.linalg.norm(fwd)
    # extra pitch about the camera's right axis, then roll about the optical axis
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    a = np.deg2rad(u(*ranges['pitch']))
    fwd, down = np.cos(a) * fwd - np.sin(a) * down, np.sin(a) * fwd + np.cos(a) * down
    b = np.deg2rad(u(*ranges['roll']))
    right, down = np.cos(b) * right + np.sin(b) * down, -np.sin(b) * right + np.cos(b) * down
    fx = 0.5 * w / np.tan(0.5 * np.deg2rad(u(*ranges['fov'])))
    cx = 0.5 * w - u(*ranges['offset']) * w
    cy = 0.5 * h - u(*ranges['offset']) * h
    return dict(R=np.stack([right, down, fwd], 1), T=centre, f=np.array([fx, fx]),
                c=np.array([cx, cy]), k=np.zeros(3), p=np.zeros(2), w=int(w), h=int(h),
                name=name)


def project(world: np.ndarray, camera: Dict):
    """World joints (..., 3) mm -> (camera-space mm (..., 3), pixels (..., 2)); the real
    Human3.6M cameras project with their lens distortion."""
    cam = world_to_camera(world, camera)
    distort = bool(np.any(camera['k'] != 0) or np.any(camera['p'] != 0))
    return cam, project_to_pixels(cam, camera, distort=distort)
