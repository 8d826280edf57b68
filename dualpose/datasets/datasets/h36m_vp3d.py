"""Human3.6M in VideoPose3D's npz layout: ``data_3d_h36m.npz`` with a 2D file such as
``data_2d_h36m_cpn_ft_h36m_dbb.npz`` (CPN detections) or ``data_2d_h36m_gt.npz``.

The 3D file holds world coordinates; this loader turns them into camera coordinates with the
public camera parameters (:mod:`dualpose.datasets.h36m_cameras`), so the metric scores
root-relative camera-space millimetres, the protocol of the CPN rows of the literature.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from dualpose.codecs import root_relative
from dualpose.registry import DATASETS
from ..h36m_cameras import (H36M_CAMERA_IDS, H36M_INTRINSICS, H36M_TEST_SUBJECTS,
                            H36M_TRAIN_SUBJECTS, h36m_camera, project_to_pixels,
                            subject_name, world_to_camera)
from .base import check_finite, load_npz, npz_dict
from .h36m import Human36mDataset

# The 17 of VideoPose3D's 32 joints that the H36M-17 skeleton keeps (its remove_joints list is
# the complement): pelvis, right leg, left leg, spine, thorax, neck/nose, head, left arm,
# right arm
H36M_32_TO_17 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
VP3D_HINT = ('See docs/datasets.md, "Human3.6M, VideoPose3D layout", for where the files come '
             'from.')
_LAYOUT_3D = "{'S1': {'Directions 1': (N, 32, 3) world coordinates, ...}, ...}"
_LAYOUT_2D = "{'S1': {'Directions 1': [4 arrays (N, 17, 2) pixels, one per camera], ...}, ...}"


def _check_symmetry(path: str, metadata, flip_pairs: Sequence, num_joints: int) -> None:
    """The 2D file's ``metadata`` (joint count, left/right joints) must match the skeleton."""
    if isinstance(metadata, np.ndarray) and metadata.dtype == object and metadata.shape == ():
        metadata = metadata.item()
    if not isinstance(metadata, dict):
        return
    if 'num_joints' in metadata and int(metadata['num_joints']) != num_joints:
        raise ValueError(f"{path!r}: metadata['num_joints'] is {metadata['num_joints']}, "
                         f'expected {num_joints} (the H36M-17 skeleton)')
    sym = metadata.get('keypoints_symmetry')
    if sym is None or flip_pairs is None:
        return
    left, right = (sorted(int(j) for j in side) for side in sym)
    expected = {frozenset(p) for p in flip_pairs}
    found = set()
    if len(left) == len(right):
        found = {frozenset(p) for p in zip(sorted(left), sorted(right))}
    if found != expected:
        raise ValueError(f"{path!r}: metadata['keypoints_symmetry'] pairs left joints {left} "
                         f'with right joints {right}, but the skeleton swaps '
                         f'{sorted(sorted(p) for p in flip_pairs)}: the 2D joints are in '
                         'another order (e.g. COCO), expected the H36M-17 order')


def load_vp3d_2d(path_2d: str, flip_pairs: Optional[Sequence] = None) -> dict:
    """``positions_2d`` of a VideoPose3D 2D file, its ``metadata`` checked against the
    skeleton's ``flip_pairs``."""
    raw_2d = load_npz(path_2d, VP3D_HINT)
    data_2d = npz_dict(path_2d, raw_2d, 'positions_2d', _LAYOUT_2D)
    _check_symmetry(path_2d, raw_2d.get('metadata'), flip_pairs, len(H36M_32_TO_17))
    return data_2d


def vp3d_views(path_2d: str, data_2d: dict, subject: str, action: str) -> List[np.ndarray]:
    """The four (N, 17, 2) pixel arrays of one action, in the order of ``H36M_CAMERA_IDS``."""
    if subject not in data_2d:
        raise KeyError(f'{path_2d!r}: positions_2d has no subject {subject!r} (it has '
                       f'{sorted(data_2d)})')
    if action not in data_2d[subject]:
        raise KeyError(f"{path_2d!r}: positions_2d['{subject}'] lacks action {action!r} (it "
                       f'has {sorted(data_2d[subject])})')
    per_camera = data_2d[subject][action]
    if len(per_camera) != len(H36M_CAMERA_IDS):
        raise ValueError(f"{path_2d!r}: positions_2d['{subject}']['{action}'] holds "
                         f'{len(per_camera)} arrays, expected one per camera '
                         f'({len(H36M_CAMERA_IDS)}: {list(H36M_CAMERA_IDS)})')
    views = []
    for cam_index, kp2d in enumerate(per_camera):
        kp2d = np.asarray(kp2d, dtype=np.float64)
        if kp2d.ndim != 3 or kp2d.shape[1:] != (17, 2):
            raise ValueError(f"{path_2d!r}: positions_2d['{subject}']['{action}'][{cam_index}] "
                             f'has shape {kp2d.shape}, expected (N, 17, 2): H36M-17 pixels')
        views.append(kp2d)
    return views


def read_vp3d_h36m(path_3d: str, path_2d: Optional[str], subjects: Sequence[str],
                   root_index: int = 0, flip_pairs: Optional[Sequence] = None,
                   use_gt_2d: bool = False, positions_unit: str = 'm') -> Dict[str, np.ndarray]:
    """Read the VideoPose3D files into per-frame arrays in the MotionBERT layout's terms.

    One video per (subject, action, camera); its frames are contiguous in the output. The
    2D arrays may be longer than the 3D ones (some detection files are); they are cut to the
    3D length, as VideoPose3D does. Shorter 2D arrays are an error.

    Args:
        path_3d: ``data_3d_h36m.npz``; key ``positions_3d``.
        path_2d: the 2D file (key ``positions_2d``, optional ``metadata``); unused with
            ``use_gt_2d``.
        subjects: subjects to read (``'S9'`` or ``9``); each must be in both files.
        root_index: the root joint of the 17.
        flip_pairs: the skeleton's left/right pairs, checked against the 2D metadata.
        use_gt_2d: 2D = the projection of the 3D label with the camera's distortion model
            (what ``data_2d_h36m_gt.npz`` holds), confidence 1.
        positions_unit: ``'m'`` (what VideoPose3D's ``prepare_data_h36m.py`` writes) or
            ``'mm'``; a file whose body size contradicts it is an error.

    Returns:
        dict of arrays over all frames N: ``joint_2d`` (N, 17, 2) pixels, ``confidence``
        (N, 17) ones, ``joints_2.5d_image`` (N, 17, 3) camera coordinates in mm,
        ``2.5d_factor`` (N,) mm per pixel at the root depth (root depth / mean focal length),
        ``joint3d_image`` (N, 17, 3) = root-relative camera coordinates / factor, placed at
        the root's projected pixel (depth 0 at the root), ``source`` (video ids
        ``'S9/Walking 1/54138969'``), ``action`` (the action without its take number:
        ``'Walking'``), ``camera_name``, ``subject``.
    """
    if positions_unit not in ('m', 'mm'):
        raise ValueError(f"positions_unit must be 'm' or 'mm', got {positions_unit!r}")
    data_3d = npz_dict(path_3d, load_npz(path_3d, VP3D_HINT), 'positions_3d', _LAYOUT_3D)
    data_2d = None
    if not use_gt_2d:
        if not path_2d:
            raise ValueError('a 2D file (ann_file_2d) is needed unless use_gt_2d=True')
        data_2d = load_vp3d_2d(path_2d, flip_pairs)
    subjects = [subject_name(s) for s in subjects]
    for path, data, key in ((path_3d, data_3d, 'positions_3d'),
                            (path_2d, data_2d, 'positions_2d')):
        missing = [s for s in subjects if data is not None and s not in data]
        if missing:
            raise KeyError(f'{path!r}: {key} has no subjects {missing} (it has '
                           f'{sorted(data)}); expected {list(subjects)}')

    parts = {k: [] for k in ('joint_2d', 'joints_2.5d_image', 'joint3d_image', '2.5d_factor')}
    labels = {k: [] for k in ('source', 'action', 'camera_name', 'subject')}
    to_mm = 1000.0 if positions_unit == 'm' else 1.0
    for subject in subjects:
        actions = data_3d[subject]
        if not isinstance(actions, dict) or not actions:
            raise ValueError(f"{path_3d!r}: positions_3d['{subject}'] holds "
                             f'{type(actions).__name__}, expected a non-empty dict '
                             '{action: (N, 32, 3) array}')
        for action in sorted(actions):
            key3 = f"positions_3d['{subject}']['{action}']"
            world = np.asarray(actions[action], dtype=np.float64)
            if world.ndim != 3 or world.shape[1:] != (32, 3):
                raise ValueError(f'{path_3d!r}: {key3} has shape {world.shape}, expected '
                                 '(N, 32, 3): the 32 joints of Human3.6M')
            world = check_finite(path_3d, key3, world, np.full(len(world), key3))
            world = world[:, H36M_32_TO_17].astype(np.float64)
            _check_unit(path_3d, key3, world, positions_unit)
            world *= to_mm
            n = len(world)
            if data_2d is not None:
                views = vp3d_views(path_2d, data_2d, subject, action)
            for cam_index, camera_id in enumerate(H36M_CAMERA_IDS):
                camera = h36m_camera(subject, camera_id)
                cam = world_to_camera(world, camera)
                if data_2d is None:
                    kp2d = project_to_pixels(cam, camera)
                else:
                    key2 = f"positions_2d['{subject}']['{action}'][{cam_index}]"
                    kp2d = views[cam_index]
                    if len(kp2d) < n:
                        raise ValueError(f'{path_2d!r}: {key2} has {len(kp2d)} frames, fewer '
                                         f'than the {n} of {key3} in {path_3d!r}')
                    kp2d = kp2d[:n]
                factor = cam[:, root_index, 2] / camera['f'].mean()
                root_px = project_to_pixels(cam[:, root_index], camera)
                img = root_relative(cam, root_index) / factor[:, None, None]
                img[..., :2] += root_px[:, None]
                parts['joint_2d'].append(kp2d)
                parts['joints_2.5d_image'].append(cam)
                parts['joint3d_image'].append(img)
                parts['2.5d_factor'].append(factor)
                for name, value in (('source', f'{subject}/{action}/{camera_id}'),
                                    ('action', str(action).split(' ')[0]),
                                    ('camera_name', camera_id), ('subject', subject)):
                    labels[name].append(np.full(n, value, dtype=object))
    out = {k: np.concatenate(v).astype(np.float32) for k, v in parts.items()}
    out.update({k: np.concatenate(v) for k, v in labels.items()})
    out['confidence'] = np.ones(out['joint_2d'].shape[:2], dtype=np.float32)
    source = out['source']
    out['joint_2d'] = check_finite(path_2d or path_3d, 'positions_2d', out['joint_2d'], source)
    return out


def _check_unit(path: str, key: str, joints: np.ndarray, unit: str) -> None:
    """Pelvis-to-head distance (about 0.5-0.8 m on an adult) against the declared unit."""
    size = float(np.median(np.linalg.norm(joints[:, 10] - joints[:, 0], axis=-1)))
    if unit == 'm' and size > 10:
        raise ValueError(f'{path!r}: {key} looks like millimetres (pelvis to head '
                         f'{size:.0f} units), but positions_unit is \'m\' (VideoPose3D writes '
                         "metres); pass positions_unit='mm'")
    if unit == 'mm' and size < 10:
        raise ValueError(f'{path!r}: {key} looks like metres (pelvis to head {size:.2f} '
                         "units), but positions_unit is 'mm'; pass positions_unit='m'")


@DATASETS.register_module()
class Human36mVp3dDataset(Human36mDataset):
    """Clips of Human3.6M read from VideoPose3D's npz files.

    The samples look exactly like :class:`Human36mDataset`'s (same pipeline, same metric), with
    ``target_mm`` the camera-space 3D pose in millimetres and ``factor_2_5d`` the millimetres
    per pixel at the root's depth, so the metric's ``pred * (w / 2) * factor`` is the
    camera-space prediction in millimetres: MPJPE and P-MPJPE are the CPN-row protocol numbers.

    Args:
        ann_file (str): ``data_3d_h36m.npz``, relative to ``data_root``.
        ann_file_2d (str | None): the 2D file (``data_2d_h36m_cpn_ft_h36m_dbb.npz``,
            ``data_2d_h36m_gt.npz``, ...), relative to ``data_root``. Not needed with
            ``use_gt_2d``.
        split (str): ``'train'`` (subjects S1 S5 S6 S7 S8, stride T // 3) or ``'test'``
            (S9 S11, stride T); ``subjects`` overrides the subjects.
        use_gt_2d (bool): 2D = the projection of the 3D label through the camera (with its
            distortion, as ``data_2d_h36m_gt.npz`` holds), confidence 1.
        positions_unit (str): unit of ``positions_3d``, ``'m'`` (VideoPose3D) or ``'mm'``.
        seq_len, stride, metainfo, ...: as :class:`Human36mDataset`.

    Confidence is 1 for every joint: VideoPose3D's 2D files hold no scores.
    """

    def __init__(self, ann_file: str, ann_file_2d: Optional[str] = None, split: str = 'train',
                 seq_len: int = 243, stride: Optional[int] = None, use_gt_2d: bool = False,
                 subjects: Optional[Sequence[str]] = None, positions_unit: str = 'm',
                 **kwargs):
        self.ann_file_2d = ann_file_2d
        self.positions_unit = positions_unit
        if subjects is None and split in ('train', 'test'):
            subjects = H36M_TRAIN_SUBJECTS if split == 'train' else H36M_TEST_SUBJECTS
        super().__init__(ann_file=ann_file, split=split, seq_len=seq_len, stride=stride,
                         use_gt_2d=use_gt_2d, subjects=subjects, **kwargs)

    def _path_2d(self) -> Optional[str]:
        path = self.ann_file_2d
        if path and not osp.isabs(path) and self.data_root:
            path = osp.join(self.data_root, path)
        return path

    def load_arrays(self) -> Dict[str, np.ndarray]:
        arrays = read_vp3d_h36m(self.ann_file, self._path_2d(), self.subjects,
                                root_index=self.metainfo['root_index'],
                                flip_pairs=self.metainfo.get('flip_pairs'),
                                use_gt_2d=self.use_gt_2d, positions_unit=self.positions_unit)
        if arrays['joint_2d'].shape[1] != self.metainfo['num_joints']:
            raise ValueError(f'{self.ann_file!r}: the 17 H36M joints do not fit the metainfo '
                             f"{self.metainfo.get('dataset_name')!r} with "
                             f"{self.metainfo['num_joints']} joints")
        sizes = self.metainfo.get('camera_sizes') or {}
        for camera_id, intrinsics in H36M_INTRINSICS.items():
            if tuple(sizes.get(camera_id, ())) != tuple(intrinsics['size']):
                raise KeyError(f"the metainfo's camera_sizes gives {sizes.get(camera_id)} for "
                               f"camera {camera_id}, expected {tuple(intrinsics['size'])}")
        return arrays

    def select_videos(self, videos: List[np.ndarray]) -> List[np.ndarray]:
        return videos  # the subjects were chosen when reading

    def sequence_key(self, frames: np.ndarray) -> str:
        """``S9/Walking 1``: the recording, whichever camera filmed it."""
        return str(self.arrays['source'][frames[0]]).rsplit('/', 1)[0]
