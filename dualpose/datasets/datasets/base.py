"""Shared clip cutting for sequence datasets: videos -> windows of ``seq_len`` frames."""
import os.path as osp
import pickle
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from dualpose.utils.skeleton import parse_metainfo

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


class BaseClipDataset(BaseDataset, metaclass=ABCMeta):
    """Clips of ``seq_len`` frames cut from videos; subclasses read a file format.

    A subclass implements ``load_arrays()`` (per-frame arrays incl. ``source``, the video id
    of each frame, stored in ``self.arrays``) and ``frame_info(frames)`` (the pipeline's input
    for the frames of one clip). Every frame of every video is covered: windows start every
    ``stride`` frames and a last window ends at the video's last frame.
    """

    def __init__(self, ann_file: str, seq_len: int = 243, stride: Optional[int] = None,
                 default_stride: Optional[int] = None, metainfo: Optional[Dict] = None,
                 data_root: str = '', pipeline: Sequence = (), test_mode: bool = False,
                 **kwargs):
        if seq_len < 1:
            raise ValueError(f'seq_len must be >= 1, got {seq_len}')
        self.seq_len = seq_len
        self.stride = stride or default_stride or max(seq_len // 3, 1)
        super().__init__(ann_file=ann_file, metainfo=parse_metainfo(metainfo),
                         data_root=data_root, pipeline=pipeline, test_mode=test_mode,
                         serialize_data=False, **kwargs)

    @abstractmethod
    def load_arrays(self) -> Dict[str, np.ndarray]:
        """Read and check the file; per-frame arrays including ``source``."""

    def select_videos(self, videos: List[np.ndarray]) -> List[np.ndarray]:
        """Hook to drop videos (e.g. by subject); keeps all by default."""
        return videos

    @abstractmethod
    def frame_info(self, frames: np.ndarray) -> dict:
        """The pipeline's input for the frames (indices into the arrays) of one clip."""

    def load_data_list(self) -> List[dict]:
        self.arrays = self.load_arrays()
        self.videos = self.select_videos(group_videos(self.arrays['source']))
        data_list = []
        for vid, frames in enumerate(self.videos):
            if len(frames) < self.seq_len:
                raise ValueError(
                    f"{self.ann_file!r}: video {self.arrays['source'][frames[0]]!r} has "
                    f'{len(frames)} frames, shorter than seq_len={self.seq_len}; choose a '
                    'smaller seq_len')
            for start in clip_starts(len(frames), self.seq_len, self.stride):
                data_list.append(dict(video_index=vid, start=start))
        if not data_list:
            raise ValueError(f'{self.ann_file!r}: no video to cut clips from')
        return data_list

    def get_data_info(self, idx: int) -> dict:
        clip = self.data_list[idx]
        frames = self.videos[clip['video_index']][clip['start']:clip['start'] + self.seq_len]
        info = self.frame_info(frames)
        info.update(sample_idx=idx, frame_indices=frames,
                    flip_indices=self.metainfo['flip_indices'],
                    root_index=self.metainfo['root_index'])
        return info


def check_finite(path: str, key: str, arr: np.ndarray, source: np.ndarray) -> np.ndarray:
    """float32 copy of ``arr``; raises naming the file, key and first bad frame on NaN/inf."""
    arr = np.asarray(arr, dtype=np.float32)
    bad = ~np.isfinite(arr.reshape(len(arr), -1)).all(1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{path!r}: key '{key}' holds NaN or infinite values in "
                         f'{int(bad.sum())} frames (first: frame {i} of video '
                         f'{source[i]!r}); expected finite coordinates')
    return arr
