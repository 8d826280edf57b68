"""Human3.6M in the MotionBERT pickle layout (``h36m_sh_conf_cam_source_final.pkl``).

Also reads the synthetic dataset written by ``tools/dataset_converters/make_synthetic_h36m.py``,
which uses the same layout.
"""
import re
from typing import Dict, List, Optional, Sequence

import numpy as np

from dualpose.registry import DATASETS
from ..h36m_cameras import H36M_INTRINSICS, subject_number
from .base import (BaseClipDataset, check_confidences, check_coordinates, check_finite,
                   load_pickle)

TRAIN_KEYS = ('joint_2d', 'confidence', 'joint3d_image', 'camera_name', 'source', 'action')
TEST_KEYS = TRAIN_KEYS + ('2.5d_factor', 'joints_2.5d_image')
# camera-space ground truth (mm) and pinhole intrinsics per frame, written by the synthetic
# generator since the trajectory head (not in MotionBERT's file)
CAMERA_KEYS = ('joint3d_camera', 'camera_intrinsics')


@DATASETS.register_module()
class Human36mDataset(BaseClipDataset):
    """Clips of ``seq_len`` frames cut from the videos of one split.

    Every frame of every video is covered: windows start every ``stride`` frames and a last
    window covers the tail (it overlaps the previous one; the metric averages overlapping
    predictions so each frame is scored once).

    Args:
        ann_file (str): the pickle, relative to ``data_root``.
        split (str): ``'train'`` or ``'test'``.
        seq_len (int): T.
        stride (int | None): window stride; default T // 3 for train, T for test.
        use_gt_2d (bool): use the projection of the 3D label as 2D input (confidence 1)
            instead of the detected 2D.
        subjects (list[str] | None): keep only the videos of these subjects (e.g.
            ``['S1']`` for the low-label setting); subjects are read from ``source``
            (``s_01_...`` is S1). None keeps all.
        metainfo (dict): the skeleton (``configs/_base_/datasets/h36m.py``), incl.
            ``camera_sizes`` {camera name: (w, h)}; a file with an optional per-frame
            ``camera_size`` (N, 2) key (the synthetic generator's random cameras) takes the
            image sizes from it instead.
        with_camera (bool): require the camera-space ground truth ``joint3d_camera``
            (N, J, 3) mm (camera frame: x right, y down, z forward) and the intrinsics
            ``camera_intrinsics`` (N, 4) ``fx, fy, cx, cy`` pixels, which the trajectory head
            trains and is scored on; without them the intrinsics of the real Human3.6M cameras
            (``h36m_cameras.py``) are taken by ``camera_name``. Either way, when present they
            travel with each clip (``target_camera``, ``camera_intrinsics``).
    """

    def __init__(self, ann_file: str, split: str = 'train', seq_len: int = 243,
                 stride: Optional[int] = None, use_gt_2d: bool = False,
                 subjects: Optional[Sequence[str]] = None, with_camera: bool = False,
                 **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.split = split
        self.use_gt_2d = use_gt_2d
        self.with_camera = bool(with_camera)
        self.subjects = None if subjects is None else [str(x) for x in subjects]
        super().__init__(ann_file=ann_file, seq_len=seq_len, stride=stride,
                         default_stride=max(seq_len // 3, 1) if split == 'train' else seq_len,
                         **kwargs)

    def load_arrays(self) -> Dict[str, np.ndarray]:
        path = self.ann_file
        data = load_pickle(path)
        if not isinstance(data, dict) or self.split not in data:
            keys = list(data) if isinstance(data, dict) else type(data).__name__
            raise KeyError(f'{path!r}: expected a dict with key {self.split!r}, found {keys}')
        split = data[self.split]
        required = TEST_KEYS if self.split == 'test' else TRAIN_KEYS
        missing = [k for k in required if k not in split]
        if missing:
            raise KeyError(f"{path!r}: split {self.split!r} lacks keys {missing}; "
                           f'expected {list(required)}')
        arrays = {k: np.asarray(split[k]) for k in required}
        for key in ('2.5d_factor', 'joints_2.5d_image', 'camera_size') + CAMERA_KEYS:
            if key in split:   # optional keys
                arrays[key] = np.asarray(split[key])
        n, j = len(arrays['source']), self.metainfo['num_joints']
        if self.with_camera:
            self._camera_keys(path, split, arrays, n)
        if n == 0:
            raise ValueError(f"{path!r}: split {self.split!r} has no frames (key "
                             f"'{self.split}/source' is empty); no video to cut clips from")
        expected = {'joint_2d': (n, j, 2), 'confidence': (n, j), 'joint3d_image': (n, j, 3),
                    'joints_2.5d_image': (n, j, 3), '2.5d_factor': (n,),
                    'camera_name': (n,), 'action': (n,), 'camera_size': (n, 2),
                    'joint3d_camera': (n, j, 3), 'camera_intrinsics': (n, 4)}
        for key, shape in expected.items():
            if key in arrays and arrays[key].shape != shape:
                raise ValueError(
                    f"{path!r}: key '{self.split}/{key}' has shape {arrays[key].shape}, expected "
                    f'{shape} (N frames from "source", J={j} joints from the metainfo '
                    f"{self.metainfo.get('dataset_name')!r})")
        for key in ('joint_2d', 'confidence', 'joint3d_image', 'joints_2.5d_image',
                    '2.5d_factor') + CAMERA_KEYS:
            if key in arrays:
                arrays[key] = check_finite(path, f'{self.split}/{key}', arrays[key],
                                           arrays['source'])
        sizes = self.metainfo.get('camera_sizes') or {}
        if 'camera_size' in arrays:   # image sizes per frame (synthetic random cameras)
            arrays['camera_size'] = check_finite(path, f'{self.split}/camera_size',
                                                 arrays['camera_size'], arrays['source'])
            if (arrays['camera_size'] <= 0).any():
                raise ValueError(f"{path!r}: key '{self.split}/camera_size' holds a size <= 0; "
                                 'expected (w, h) pixels per frame')
        unknown = [] if 'camera_size' in arrays else sorted(
            {str(c) for c in np.unique(arrays['camera_name'])} - set(map(str, sizes)))
        if unknown:
            raise KeyError(f"{path!r}: cameras {unknown} have no image size in the metainfo's "
                           f'camera_sizes (known: {sorted(sizes)})')
        frame_sizes = (arrays['camera_size'] if 'camera_size' in arrays else np.asarray(
            [sizes[str(c)] for c in arrays['camera_name']], dtype=np.float32))
        for key in ('joint_2d', 'joint3d_image'):
            check_coordinates(path, f'{self.split}/{key}', arrays[key], frame_sizes,
                              arrays['source'])
        arrays['confidence'] = check_confidences(path, f'{self.split}/confidence',
                                                 arrays['confidence'], arrays['source'])
        if 'joint3d_camera' in arrays and (arrays['joint3d_camera'][..., 2] <= 0).any():
            i = int(np.flatnonzero((arrays['joint3d_camera'][..., 2] <= 0).any(-1))[0])
            raise ValueError(f"{path!r}: key '{self.split}/joint3d_camera' has a depth <= 0 "
                             f"(frame {i} of video {arrays['source'][i]!r}); expected camera-"
                             'space mm with z forward')
        if self.use_gt_2d:
            arrays['joint_2d'] = arrays['joint3d_image'][..., :2].copy()
            arrays['confidence'] = np.ones_like(arrays['confidence'])
        return arrays

    def _camera_keys(self, path, split, arrays, n) -> None:
        """``with_camera``: the camera-space ground truth must be in the file; intrinsics
        from the file, else from the real Human3.6M cameras by name."""
        if 'joint3d_camera' not in arrays:
            raise KeyError(
                f"{path!r}: split {self.split!r} lacks 'joint3d_camera' (N, J, 3), the "
                'camera-space ground truth in mm that with_camera=True (the trajectory head) '
                'needs; files of the synthetic generator have it since the trajectory head '
                'was added: regenerate with python '
                'tools/dataset_converters/make_synthetic_h36m.py --force')
        if 'camera_intrinsics' not in arrays:
            names = [str(c) for c in np.unique(arrays['camera_name'])]
            unknown = [c for c in names if c not in H36M_INTRINSICS]
            if unknown:
                raise KeyError(f"{path!r}: split {self.split!r} lacks 'camera_intrinsics' "
                               f'(N, 4) and cameras {unknown[:5]} are not Human3.6M cameras '
                               'whose intrinsics are known')
            table = {c: (*H36M_INTRINSICS[c]['focal'], *H36M_INTRINSICS[c]['center'])
                     for c in names}
            arrays['camera_intrinsics'] = np.asarray(
                [table[str(c)] for c in arrays['camera_name']], dtype=np.float32)

    def select_videos(self, videos: List[np.ndarray]) -> List[np.ndarray]:
        if self.subjects is None:
            return videos
        wanted = {subject_number(s) for s in self.subjects}
        kept, found = [], set()
        for frames in videos:
            src = str(self.arrays['source'][frames[0]])
            try:
                subject = int(src.split('_')[1])
            except (IndexError, ValueError):
                raise ValueError(f'{self.ann_file!r}: cannot read the subject from source '
                                 f"{src!r}; expected 's_<subject>_act_...'") from None
            found.add(subject)
            if subject in wanted:
                kept.append(frames)
        missing = sorted(wanted - found)
        if missing:
            raise ValueError(f"{self.ann_file!r}: split '{self.split}' has no videos of "
                             f"subjects {['S%d' % m for m in missing]} (it has "
                             f"{['S%d' % f for f in sorted(found)]})")
        return kept

    def sequence_key(self, frames: np.ndarray) -> str:
        """``s_01_act_02_subact_01``: the recording, whichever camera filmed it."""
        return re.sub(r'_ca_\d+$', '', str(self.arrays['source'][frames[0]]))

    def frame_info(self, frames: np.ndarray) -> dict:
        a = self.arrays
        first = frames[0]
        camera = str(a['camera_name'][first])
        info = dict(
            video_id=str(a['source'][first]),
            action=str(a['action'][first]),
            camera_name=camera,
            image_size=(tuple(float(v) for v in a['camera_size'][first]) if 'camera_size' in a
                        else tuple(self.metainfo['camera_sizes'][camera])),
            keypoints_2d=a['joint_2d'][frames],
            keypoint_scores=a['confidence'][frames],
            target_3d=a['joint3d_image'][frames],
        )
        if '2.5d_factor' in a:
            info['factor_2_5d'] = a['2.5d_factor'][frames]
        if 'joints_2.5d_image' in a:
            info['target_mm'] = a['joints_2.5d_image'][frames]
        if 'camera_intrinsics' in a:   # one camera per video: the clip's first frame's
            info['camera_intrinsics'] = a['camera_intrinsics'][first].astype(np.float64)
        if 'joint3d_camera' in a:
            info['target_camera'] = a['joint3d_camera'][frames]
        return info
