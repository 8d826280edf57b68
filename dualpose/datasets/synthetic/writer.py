"""Assemble the synthetic dataset in MotionBERT's pickle layout and write it atomically.

Every recording is one clip of one actor (:func:`~.body.draw_body`) performing one movement
family (with transitions to others, :func:`~.motion.generate_motion`), filmed by the four real
Human3.6M cameras of its subject (:func:`~.cameras.h36m_rig`), optionally by extra random
cameras (camera augmentation), with detector-like 2D (:func:`~.noise.detect`).
"""
import os.path as osp
import pickle
import time
from typing import Dict, Optional, Sequence

import numpy as np

from dualpose.utils.fileio import atomic_open
from ..h36m_cameras import H36M_TEST_SUBJECTS, H36M_TRAIN_SUBJECTS, subject_number
from .body import HEIGHT_RANGE, draw_body
from .cameras import H36M_AREA, check_camera_ranges, h36m_rig, project, random_camera
from .motion import FAMILIES, FPS, generate_motion
from .noise import detect

__all__ = ['FAMILY_NAMES', 'ACTION_NAMES', 'generate_synthetic_h36m', 'write_synthetic_h36m',
           'subject_number', 'object_column']

FAMILY_NAMES = tuple(FAMILIES)
# the ``action`` of a family's recordings (one per family; the metric tabulates per action)
ACTION_NAMES = dict(locomotion='Locomotion', posture='Posture', upper_body='UpperBody',
                    kick='Kick', jump='Jump', floor='Floor')
LENGTH_SPREAD = 1.6
KEYS = ('joint_2d', 'confidence', 'joint3d_image', 'camera_name', 'source', 'action',
        '2.5d_factor', 'joints_2.5d_image')
# written after KEYS (and after the optional camera_size), since the trajectory head was added:
# the camera-space ground truth and each frame's pinhole intrinsics. The arrays of KEYS are
# unchanged by them (same values, same md5 per array; only the pickle file as a whole differs).
CAMERA_KEYS = ('joint3d_camera', 'camera_intrinsics')


def object_column(items, total: int) -> np.ndarray:
    """A per-frame (total,) object array from ``[(value, frames), ...]`` runs; each run holds
    one str object, which pickle writes once and then refers to."""
    arr = np.empty(total, dtype=object)
    pos = 0
    for value, n in items:
        arr[pos:pos + n] = value
        pos += n
    return arr


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng([int(k) for k in key])


def _check_families(name, families):
    families = [str(f) for f in families]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise ValueError(f'{name}={families!r}: unknown or empty; valid families are '
                         f'{list(FAMILY_NAMES)}')
    return families


def _check_range(name, value, lo, hi):
    a, b = (float(v) for v in value)
    if not (lo <= a <= b <= hi):
        raise ValueError(f'{name}=({a}, {b}) must satisfy {lo} <= low <= high <= {hi}')
    return a, b


def _views(subject, rec_rng, cameras, augment, n_aug):
    if cameras == 'h36m':
        views = h36m_rig(f'S{subject}')
    elif cameras == 'random':
        views = []
        n_aug = max(n_aug, 4)
    else:
        views = [dict(c) for c in cameras]
    (cx, cy), _ = H36M_AREA
    for k in range(n_aug):
        views.append(random_camera(rec_rng, augment, (cx, cy, 900.0), name=f'random_{k:02d}'))
    return views


def _make_split(subjects, families, allowed, recordings, frames_per_video, cameras, augment,
                n_aug, noise_range, height_range, transition_prob, seed, want_world,
                progress=None):
    cols = {k: [] for k in ('joint_2d', 'confidence', 'joint3d_image', '2.5d_factor',
                            'camera_size') + CAMERA_KEYS}
    labels = {k: [] for k in ('camera_name', 'source', 'action')}
    worlds, cams_xyz, used_cameras, segments = [], [], {}, {}
    for subject in subjects:
        sub = subject_number(subject)
        for fam in families:
            fam_idx = FAMILY_NAMES.index(fam)
            for rec in range(1, recordings + 1):
                if progress is not None:
                    progress.update(1)
                rng = _rng(seed, sub, fam_idx, rec, 201)
                n = int(rng.integers(frames_per_video,
                                     int(frames_per_video * LENGTH_SPREAD) + 1))
                body = draw_body(rng, height_range)
                motion = generate_motion(rng, fam, n, body, allowed, transition_prob)
                world = motion['joints']
                key = f's_{sub:02d}_act_{fam_idx + 2:02d}_subact_{rec:02d}'
                segments[key] = motion['labels']
                for cam_idx, cam in enumerate(_views(sub, rng, cameras, augment, n_aug), 1):
                    xyz, uv = project(world, cam)
                    factor = xyz[:, 0, 2] / float(np.mean(cam['f']))  # mm per pixel
                    img = np.concatenate([uv, ((xyz[..., 2] - xyz[:, :1, 2])
                                               / factor[:, None])[..., None]], -1)
                    noise_rng = _rng(seed, sub, fam_idx, rec, cam_idx, 202)
                    xy, conf = detect(noise_rng, uv, noise_rng.uniform(*noise_range))
                    cols['joint_2d'].append(xy)
                    cols['confidence'].append(conf)
                    cols['joint3d_image'].append(img)
                    cols['2.5d_factor'].append(factor)
                    cols['camera_size'].append(np.tile([cam['w'], cam['h']], (n, 1)))
                    cols['joint3d_camera'].append(xyz)
                    cols['camera_intrinsics'].append(
                        np.tile(np.concatenate([cam['f'], cam['c']]), (n, 1)))
                    name = str(cam['name'])
                    used_cameras[name] = (cam['w'], cam['h'])
                    for k, value in (('camera_name', name), ('source', f'{key}_ca_{cam_idx:02d}'),
                                     ('action', ACTION_NAMES[fam])):
                        labels[k].append((value, n))
                    if want_world:
                        worlds.append(world)
                        cams_xyz.append(xyz)
    out = {k: np.concatenate(v).astype(np.float32) for k, v in cols.items()}
    # from the stored float32 arrays, so that the identity holds exactly
    out['joints_2.5d_image'] = out['joint3d_image'] * out['2.5d_factor'][:, None, None]
    total = len(out['2.5d_factor'])
    for key, items in labels.items():
        out[key] = object_column(items, total)
    ordered = {k: out[k] for k in KEYS}
    if cameras != 'h36m' or n_aug:
        ordered['camera_size'] = out['camera_size']   # image (w, h) per frame
    for key in CAMERA_KEYS:   # (N, 17, 3) mm, camera frame; (N, 4) fx, fy, cx, cy pixels
        ordered[key] = out[key]
    world = dict(segments=segments, camera_sizes=used_cameras)
    if want_world:
        world.update(joint3d_world=np.concatenate(worlds), joint3d_camera=np.concatenate(cams_xyz))
    return ordered, world


def generate_synthetic_h36m(seed: int = 0,
                            train_subjects: Sequence = H36M_TRAIN_SUBJECTS,
                            test_subjects: Sequence = H36M_TEST_SUBJECTS,
                            families: Sequence[str] = FAMILY_NAMES,
                            test_families: Optional[Sequence[str]] = None,
                            recordings: int = 5, test_recordings: int = 3,
                            frames_per_video: int = 120,
                            transition_prob: float = 0.5,
                            cameras='h36m', test_cameras='h36m',
                            camera_augmentation: Optional[Dict] = None,
                            noise_scale=(0.0, 1.3),
                            height_range=HEIGHT_RANGE,
                            return_world: bool = False, progress: bool = False):
    """Build the SYNTHETIC dataset dict ``{'train': {...}, 'test': {...}}`` (generator v2).

    Args:
        seed: everything is a deterministic function of the seed.
        train_subjects / test_subjects: Human3.6M subject ids (disjoint); with
            ``cameras='h36m'`` each subject's recordings are filmed by its real rig.
        families: movement families of the training recordings (transitions stay among
            them): any of ``locomotion, posture, upper_body, kick, jump, floor``.
        test_families: families of the test recordings (default ``families``); their clips
            transition only among these.
        recordings / test_recordings: recordings per (subject, family) in each split.
        frames_per_video: shortest recording (50 fps); lengths are drawn up to 1.6x that.
        transition_prob: probability that a recording moves on to other families.
        progress: a progress bar with an ETA over the recordings (on a terminal only; the
            data do not depend on it).
        cameras: ``'h36m'`` (each subject's four real cameras) or a list of camera dicts.
        test_cameras: ``'h36m'`` or ``'random'``: four random cameras per test recording,
            drawn from ``camera_augmentation``'s ranges (the unseen-camera split).
        camera_augmentation: None, or ``dict(views=N, **ranges)``: N extra random cameras per
            training recording; ranges as in :data:`~.cameras.CAMERA_RANGES` (distance,
            height, pitch, roll, fov, offset, image_sizes).
        noise_scale: (low, high): each video's 2D-noise scale is drawn from it (0 = exact 2D).
        height_range: (low, high) standing heights in mm, within [1000, 2500].
        return_world: also return per split ``joint3d_world`` and ``joint3d_camera`` (N, 17, 3)
            mm and, always, the segment labels of each recording.

    Returns:
        dict, or ``(dict, world)`` when ``return_world``.
    """
    for name, value in (('recordings', recordings), ('test_recordings', test_recordings),
                        ('frames_per_video', frames_per_video)):
        if int(value) != value or value < 1:
            raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
    families = _check_families('families', families)
    test_families = _check_families('test_families', test_families or families)
    if not 0.0 <= float(transition_prob) <= 1.0:
        raise ValueError(f'transition_prob must be in [0, 1], got {transition_prob!r}')
    noise_range = _check_range('noise_scale', noise_scale, 0.0, 5.0)
    heights = _check_range('height_range', height_range, 1000.0, 2500.0)
    if not (cameras == 'h36m' or isinstance(cameras, (list, tuple)) and cameras):
        raise ValueError(f"cameras must be 'h36m' or a non-empty list of camera dicts, got "
                         f'{cameras!r}')
    if test_cameras not in ('h36m', 'random'):
        raise ValueError(f"test_cameras must be 'h36m' or 'random', got {test_cameras!r}")
    augment = dict(camera_augmentation or {})
    n_aug = augment.pop('views', 0)
    if int(n_aug) != n_aug or n_aug < 0:
        raise ValueError(f'camera_augmentation views must be an integer >= 0, got {n_aug!r}')
    augment = check_camera_ranges(augment)
    train_ids = {subject_number(s) for s in train_subjects}
    test_ids = {subject_number(s) for s in test_subjects}
    if not train_ids or not test_ids:
        raise ValueError('need at least one train subject and one test subject')
    if train_ids & test_ids:
        raise ValueError(f'train and test subjects overlap: {sorted(train_ids & test_ids)}')
    data, world = {}, {}
    bar = None
    if progress:  # a bar with an ETA on a terminal (tqdm stays silent when not a terminal)
        from tqdm import tqdm
        bar = tqdm(total=len(train_subjects) * len(families) * recordings
                   + len(test_subjects) * len(test_families) * test_recordings,
                   desc='recordings', unit='rec', disable=None, leave=False)
    data['train'], world['train'] = _make_split(
        train_subjects, families, families, recordings, frames_per_video, cameras, augment,
        int(n_aug), noise_range, heights, transition_prob, seed, return_world, bar)
    data['test'], world['test'] = _make_split(
        test_subjects, test_families, test_families, test_recordings, frames_per_video,
        cameras if test_cameras == 'h36m' else 'random', augment, 0, noise_range, heights,
        transition_prob, seed + 7919, return_world, bar)
    if bar is not None:
        bar.close()
    return (data, world) if return_world else data


def write_synthetic_h36m(out_file: str, generator: str = 'v2', **kwargs) -> dict:
    """Generate the SYNTHETIC dataset and write it atomically to ``out_file`` (a pickle).

    Args:
        generator: ``'v2'`` (this package, the default) or ``'v1'`` (the seven scripted
            actions of :mod:`.legacy`, kept for one release for before/after comparisons).
        **kwargs: for the chosen generator's ``generate_synthetic_h36m``.

    Returns:
        dict: ``out_file``, ``frames`` and ``videos`` per split, ``size_bytes``, ``size_mb``,
        ``seconds`` (generation and writing) and ``generator``.
    """
    if generator not in ('v1', 'v2'):
        raise ValueError(f"generator must be 'v1' or 'v2', got {generator!r}")
    if kwargs.pop('return_world', False):
        raise ValueError('write_synthetic_h36m does not write world coordinates')
    start = time.perf_counter()
    if generator == 'v1':
        from .legacy import generate_synthetic_h36m as generate_v1
        data = generate_v1(**kwargs)
    else:
        data = generate_synthetic_h36m(**kwargs)
    out_file = osp.abspath(out_file)
    with atomic_open(out_file, 'wb') as f:
        pickle.dump(data, f, protocol=4)
    size = osp.getsize(out_file)
    return dict(out_file=out_file, generator=generator,
                frames={k: int(len(v['source'])) for k, v in data.items()},
                videos={k: int(len(set(v['source'].tolist()))) for k, v in data.items()},
                size_bytes=int(size), size_mb=size / 2 ** 20,
                seconds=time.perf_counter() - start, fps=FPS)
