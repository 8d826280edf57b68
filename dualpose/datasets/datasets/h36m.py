"""Human3.6M in the MotionBERT pickle layout (``h36m_sh_conf_cam_source_final.pkl``).

Also reads the synthetic dataset written by ``tools/dataset_converters/make_synthetic_h36m.py``,
which uses the same layout.
"""
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from dualpose.registry import DATASETS
from dualpose.utils.skeleton import parse_metainfo

TRAIN_KEYS = ('joint_2d', 'confidence', 'joint3d_image', 'camera_name', 'source', 'action')
TEST_KEYS = TRAIN_KEYS + ('2.5d_factor', 'joints_2.5d_image')
PREPARE_HINT = ('See docs/datasets.md for how to prepare Human3.6M, or generate the synthetic '
                'default with: python tools/dataset_converters/make_synthetic_h36m.py')


def load_pickle(path: str):
    """Load a pickle file, turning a missing or unreadable file into a clear error."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'data file {path!r} does not exist. {PREPARE_HINT}')
    try:
        with open(path, 'rb') as f:
            return pickle.load(f)
    except Exception as err:
        raise ValueError(f'could not read pickle {path!r} ({type(err).__name__}: {err}); the '
                         'file is probably truncated or not a pickle') from err


def group_videos(source: np.ndarray) -> List[np.ndarray]:
    """Frame indices of each video, in order of first appearance; time order kept."""
    uniq, first, codes = np.unique(np.asarray(source), return_index=True, return_inverse=True)
    order = np.argsort(codes, kind='stable')
    groups = np.split(order, np.cumsum(np.bincount(codes, minlength=len(uniq)))[:-1])
    return [groups[i] for i in np.argsort(first)]


def clip_starts(length: int, seq_len: int, stride: int) -> List[int]:
    """Window starts covering every frame of a video: every ``stride`` frames, plus a last
    window ending at the video's end when the stride does not land there."""
    starts = list(range(0, length - seq_len + 1, stride))
    if starts[-1] + seq_len < length:
        starts.append(length - seq_len)
    return starts


@DATASETS.register_module()
class Human36mDataset(BaseDataset):
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
        metainfo (dict): the skeleton (``configs/_base_/datasets/h36m.py``), incl.
            ``camera_sizes`` {camera name: (w, h)}.
    """

    def __init__(self, ann_file: str, split: str = 'train', seq_len: int = 243,
                 stride: Optional[int] = None, use_gt_2d: bool = False,
                 metainfo: Optional[Dict] = None, data_root: str = '',
                 pipeline: Sequence = (), test_mode: bool = False, **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if seq_len < 1:
            raise ValueError(f'seq_len must be >= 1, got {seq_len}')
        self.split = split
        self.seq_len = seq_len
        self.stride = stride or (max(seq_len // 3, 1) if split == 'train' else seq_len)
        self.use_gt_2d = use_gt_2d
        super().__init__(ann_file=ann_file, metainfo=parse_metainfo(metainfo),
                         data_root=data_root, pipeline=pipeline, test_mode=test_mode,
                         serialize_data=False, **kwargs)

    # ------------------------------------------------------------------ loading
    def _checked_arrays(self, data: Dict) -> Dict[str, np.ndarray]:
        path = self.ann_file
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
        if '2.5d_factor' in split:
            arrays['2.5d_factor'] = np.asarray(split['2.5d_factor'])
        n, j = len(arrays['source']), self.metainfo['num_joints']
        expected = {'joint_2d': (n, j, 2), 'confidence': (n, j), 'joint3d_image': (n, j, 3),
                    'joints_2.5d_image': (n, j, 3), '2.5d_factor': (n,),
                    'camera_name': (n,), 'action': (n,)}
        for key, shape in expected.items():
            if key in arrays and arrays[key].shape != shape:
                raise ValueError(
                    f"{path!r}: key '{self.split}/{key}' has shape {arrays[key].shape}, expected "
                    f'{shape} (N frames from "source", J={j} joints from the metainfo '
                    f"{self.metainfo.get('dataset_name')!r})")
        for key in ('joint_2d', 'confidence', 'joint3d_image', 'joints_2.5d_image',
                    '2.5d_factor'):
            if key in arrays:
                arr = arrays[key].astype(np.float32)
                bad = ~np.isfinite(arr.reshape(n, -1)).all(1)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise ValueError(
                        f"{path!r}: key '{self.split}/{key}' holds NaN or infinite values in "
                        f'{int(bad.sum())} frames (first: frame {i} of video '
                        f"{arrays['source'][i]!r}); expected finite coordinates")
                arrays[key] = arr
        sizes = self.metainfo.get('camera_sizes') or {}
        unknown = sorted({str(c) for c in np.unique(arrays['camera_name'])} - set(map(str, sizes)))
        if unknown:
            raise KeyError(f"{path!r}: cameras {unknown} have no image size in the metainfo's "
                           f'camera_sizes (known: {sorted(sizes)})')
        return arrays

    def load_data_list(self) -> List[dict]:
        self.arrays = self._checked_arrays(load_pickle(self.ann_file))
        if self.use_gt_2d:
            self.arrays['joint_2d'] = self.arrays['joint3d_image'][..., :2].copy()
            self.arrays['confidence'] = np.ones_like(self.arrays['confidence'])
        self.videos = group_videos(self.arrays['source'])
        data_list = []
        for vid, frames in enumerate(self.videos):
            if len(frames) < self.seq_len:
                raise ValueError(
                    f"{self.ann_file!r}: video {self.arrays['source'][frames[0]]!r} of split "
                    f"'{self.split}' has {len(frames)} frames, shorter than seq_len="
                    f'{self.seq_len}; choose a smaller seq_len')
            for start in clip_starts(len(frames), self.seq_len, self.stride):
                data_list.append(dict(video_index=vid, start=start))
        if not data_list:
            raise ValueError(f"{self.ann_file!r}: split '{self.split}' holds no video")
        return data_list

    def get_data_info(self, idx: int) -> dict:
        clip = self.data_list[idx]
        frames = self.videos[clip['video_index']][clip['start']:clip['start'] + self.seq_len]
        a = self.arrays
        first = frames[0]
        camera = str(a['camera_name'][first])
        info = dict(
            sample_idx=idx,
            video_id=str(a['source'][first]),
            action=str(a['action'][first]),
            camera_name=camera,
            image_size=tuple(self.metainfo['camera_sizes'][camera]),
            frame_indices=frames,
            keypoints_2d=a['joint_2d'][frames],
            keypoint_scores=a['confidence'][frames],
            target_3d=a['joint3d_image'][frames],
            flip_indices=self.metainfo['flip_indices'],
            root_index=self.metainfo['root_index'],
        )
        if '2.5d_factor' in a:
            info['factor_2_5d'] = a['2.5d_factor'][frames]
        if 'joints_2.5d_image' in a:
            info['target_mm'] = a['joints_2.5d_image'][frames]
        return info
