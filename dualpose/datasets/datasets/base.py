"""Shared clip cutting for sequence datasets: videos -> windows of ``seq_len`` frames."""
import os.path as osp
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine import fileio
from mmengine.dataset import BaseDataset

from dualpose.structures.skeleton import parse_metainfo
from ..samplers import sample_rng

PREPARE_HINT = ('See docs/datasets.md for how to prepare Human3.6M, or generate the synthetic '
                'default with: python tools/dataset_converters/make_synthetic_h36m.py')


def load_pickle(path: str):
    """Load a pickle file (mmengine's ``fileio.load``, so a ``backend_args`` path such as
    ``s3://`` works too), turning a missing or unreadable file into a clear error. A pickle runs
    code when loaded: read only files you trust."""
    if '://' not in str(path) and not osp.isfile(path):
        raise FileNotFoundError(f'data file {path!r} does not exist. {PREPARE_HINT}')
    try:
        return fileio.load(path, file_format='pkl')
    except Exception as err:
        raise ValueError(f'could not read pickle {path!r} ({type(err).__name__}: {err}); the '
                         'file is probably truncated or not a pickle') from err


def load_npz(path: str, hint: str = PREPARE_HINT) -> dict:
    """All arrays of an ``.npz`` file (pickled objects allowed, as the public layouts store
    dicts), turning a missing or unreadable file into a clear error."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'data file {path!r} does not exist. {hint}')
    try:
        with np.load(path, allow_pickle=True) as f:
            return {k: f[k] for k in f.files}
    except Exception as err:
        raise ValueError(f'could not read npz {path!r} ({type(err).__name__}: {err}); the '
                         'file is probably truncated or not an npz archive') from err


def npz_dict(path: str, arrays: dict, key: str, expected: str) -> dict:
    """``arrays[key]`` of an npz as the dict it pickles (``np.load(...)[key].item()``), with
    errors naming the file, the key and the ``expected`` layout."""
    if key not in arrays:
        raise KeyError(f'{path!r}: lacks key {key!r} (found {sorted(arrays)}); expected '
                       f'{expected}')
    value = arrays[key]
    if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
        value = value.item()
    if not isinstance(value, dict):
        raise ValueError(f"{path!r}: key {key!r} holds {type(value).__name__} "
                         f"{getattr(value, 'shape', '')}, expected {expected}")
    return value


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

    ``holdout=dict(fraction=0.1, part='train' | 'val', seed=0)`` splits the videos into a
    training part and a held-out validation part (the two configs use the same dict and differ
    in ``part``). Whole recordings (``sequence_key``: all camera views of one take) are held
    out, chosen by a seeded permutation, so the parts never share a motion.

    When the sampler yields :class:`~dualpose.datasets.samplers.SampleIndex` items, each
    sample's random augmentation draws from its own generator (``results['rng']``), seeded by
    (seed, epoch, index).

    ``whole_videos=True`` makes each video one clip of its own length (``seq_len`` and
    ``stride`` then only bound nothing; use ``batch_size=1``, the clips differ in length). With
    a causal model (``DualStreamFormer(causal=True, window=W)``) a forward pass over a whole
    video equals live lifting frame by frame, so this is how a live model is scored: every
    frame with the look-back it has live, where windows would cut it at each window's start.
    """

    def __init__(self, ann_file: str, seq_len: int = 243, stride: Union[int, str, None] = None,
                 default_stride: Optional[int] = None, metainfo: Optional[Dict] = None,
                 data_root: str = '', pipeline: Sequence = (), test_mode: bool = False,
                 holdout: Optional[Dict] = None, whole_videos: bool = False, **kwargs):
        self.whole_videos = bool(whole_videos)
        if isinstance(seq_len, bool) or not isinstance(seq_len, int):
            raise TypeError(f'seq_len must be an integer number of frames, got {seq_len!r}')
        if seq_len < 1:
            raise ValueError(f'seq_len must be >= 1, got {seq_len}')
        self.holdout = check_holdout(holdout)
        self.seq_len = seq_len
        if stride == 'seq_len':  # non-overlapping windows
            stride = seq_len
        if stride is not None and (isinstance(stride, bool) or not isinstance(stride, int)):
            raise TypeError(f"stride must be an integer number of frames, 'seq_len' or None, "
                            f'got {stride!r}')
        if stride is not None and stride < 1:
            raise ValueError(f'stride must be >= 1 (frames between window starts), got '
                             f'{stride}')
        self.stride = stride or default_stride or max(seq_len // 3, 1)
        super().__init__(ann_file=ann_file, metainfo=parse_metainfo(metainfo),
                         data_root=data_root, pipeline=pipeline, test_mode=test_mode,
                         serialize_data=False, **kwargs)

    @classmethod
    def _load_metainfo(cls, metainfo=None) -> dict:
        """``BaseDataset._load_metainfo`` without its warning for plain strings: mmengine reads
        every string value of ``metainfo`` as the name of a file of lines and, when no such file
        exists, warns "h36m is not a meta file" on every run (for ``dataset_name='h36m'``).
        Strings naming an existing file are still read as mmengine does; others are kept."""
        import copy

        from mmengine.fileio import list_from_file
        info = copy.deepcopy(cls.METAINFO)
        if metainfo is None:
            return info
        if not isinstance(metainfo, Mapping):
            raise TypeError(f'metainfo should be a Mapping, got {type(metainfo)}')
        for k, v in metainfo.items():
            info[k] = list_from_file(v) if isinstance(v, str) and osp.isfile(v) \
                else copy.deepcopy(v)
        return info

    @abstractmethod
    def load_arrays(self) -> Dict[str, np.ndarray]:
        """Read and check the file; per-frame arrays including ``source``."""

    def select_videos(self, videos: List[np.ndarray]) -> List[np.ndarray]:
        """Hook to drop videos (e.g. by subject); keeps all by default."""
        return videos

    def sequence_key(self, frames: np.ndarray) -> str:
        """The recording a video belongs to (videos of one recording are held out together);
        by default the video id."""
        return str(self.arrays['source'][frames[0]])

    def split_holdout(self, videos: List[np.ndarray]) -> List[np.ndarray]:
        """The ``holdout['part']`` of ``videos`` (all of them when ``holdout`` is None)."""
        if self.holdout is None:
            return videos
        keys = sorted({self.sequence_key(f) for f in videos})
        n_held = max(1, int(round(self.holdout['fraction'] * len(keys))))
        if n_held >= len(keys):
            raise ValueError(f'{self.ann_file!r}: holdout fraction {self.holdout["fraction"]} of '
                             f'{len(keys)} recordings leaves none to train on')
        order = np.random.default_rng(self.holdout['seed']).permutation(len(keys))
        held = {keys[i] for i in order[:n_held]}
        want_held = self.holdout['part'] == 'val'
        return [f for f in videos if (self.sequence_key(f) in held) == want_held]

    @abstractmethod
    def frame_info(self, frames: np.ndarray) -> dict:
        """The pipeline's input for the frames (indices into the arrays) of one clip."""

    def load_data_list(self) -> List[dict]:
        self.arrays = self.load_arrays()
        self.videos = self.split_holdout(self.select_videos(group_videos(self.arrays['source'])))
        data_list = []
        for vid, frames in enumerate(self.videos):
            if self.whole_videos:
                data_list.append(dict(video_index=vid, start=0, length=len(frames)))
                continue
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
        length = clip.get('length', self.seq_len)
        frames = self.videos[clip['video_index']][clip['start']:clip['start'] + length]
        info = self.frame_info(frames)
        rng = sample_rng(idx)
        if rng is not None:
            info['rng'] = rng
        info.update(sample_idx=int(idx), frame_indices=frames,
                    flip_indices=self.metainfo['flip_indices'],
                    root_index=self.metainfo['root_index'])
        return info


def check_holdout(holdout: Optional[Dict]) -> Optional[Dict]:
    """``holdout`` with defaults filled in; a clear error for a bad value."""
    if holdout is None:
        return None
    if not isinstance(holdout, dict) or set(holdout) - {'fraction', 'part', 'seed'}:
        raise ValueError("holdout must be a dict with keys 'fraction', 'part' and optionally "
                         f"'seed', got {holdout!r}")
    out = dict(dict(fraction=0.1, part='train', seed=0), **holdout)
    if not 0 < float(out['fraction']) < 1:
        raise ValueError(f"holdout['fraction'] must be in (0, 1), got {out['fraction']!r}")
    if out['part'] not in ('train', 'val'):
        raise ValueError(f"holdout['part'] must be 'train' or 'val', got {out['part']!r}")
    return out


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


# Value checks of training data (docs/datasets.md, "Value checks"): a coordinate further than
# COORD_LIMIT image sizes from the origin is refused; confidences below 0 or above
# CONF_LIMIT are refused, those in (1, CONF_LIMIT] (some detectors' heatmap maxima) are
# clipped to 1 with a warning that counts them.
COORD_LIMIT = 4.0
CONF_LIMIT = 1.5


def check_confidences(path: str, key: str, conf: np.ndarray, source: np.ndarray,
                      warn=None) -> np.ndarray:
    """``conf`` with values in (1, CONF_LIMIT] clipped to 1 (counted in a warning); a
    ValueError naming the file, key, count, range and first frame for values < 0 or >
    CONF_LIMIT."""
    flat = conf.reshape(len(conf), -1)
    out_of_range = (flat < 0) | (flat > CONF_LIMIT)
    if out_of_range.any():
        i = int(np.flatnonzero(out_of_range.any(1))[0])
        raise ValueError(f"{path!r}: key '{key}' holds {int(out_of_range.sum())} confidences "
                         f'outside [0, 1] (min {float(flat.min()):g}, max {float(flat.max()):g}; '
                         f'first: frame {i} of video {source[i]!r}); expected detection '
                         'scores in [0, 1]')
    over = flat > 1
    if over.any():
        import warnings
        msg = (f"{path!r}: key '{key}': {int(over.sum())} confidences in (1, {CONF_LIMIT:g}] "
               'clipped to 1')
        (warn or warnings.warn)(msg)
        conf = np.minimum(conf, 1).astype(conf.dtype)
    return conf


def check_coordinates(path: str, key: str, coords: np.ndarray, sizes: np.ndarray,
                      source: np.ndarray) -> None:
    """A ValueError naming the file, key and first frame when a coordinate lies further than
    COORD_LIMIT image sizes from the origin (``sizes``: (N, 2) width, height per frame; a
    third coordinate is compared with the larger side)."""
    sizes = np.asarray(sizes, dtype=np.float64).reshape(len(coords), 1, 2)
    limit = COORD_LIMIT * sizes
    if coords.shape[-1] > 2:
        limit = np.concatenate([limit, limit.max(-1, keepdims=True)], -1)
    bad = (np.abs(coords) > limit[..., :coords.shape[-1]]).reshape(len(coords), -1).any(1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{path!r}: key '{key}' holds coordinates further than "
                         f'{COORD_LIMIT:g} image sizes from the origin in {int(bad.sum())} frames '
                         f'(first: frame {i} of video {source[i]!r}, max |value| '
                         f'{float(np.abs(coords[i]).max()):g}, image {tuple(sizes[i, 0])}); '
                         'expected pixel coordinates of the image')
