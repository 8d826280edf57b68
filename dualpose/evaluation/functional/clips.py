"""From a test run's clips to one entry per frame: the one clip assembler of the metrics and the
prediction dump.

A test split is cut into overlapping windows (clips); each clip's prediction arrives as a data
sample. :func:`read_clip` turns one sample into numpy arrays in root-relative coordinates and
millimetres (checked against each other), :func:`assemble_videos` groups the clips by video and
:func:`merge_clips` gives each frame once, the mean of the clips that cover it.
"""
from collections import defaultdict
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from dualpose.codecs import normalized_to_mm, root_relative

__all__ = ['to_numpy', 'read_clip', 'merge_clips', 'assemble_videos']


def to_numpy(value, dtype=None) -> np.ndarray:
    """A tensor, array or sequence as a numpy array (on the cpu), optionally cast."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    return arr.astype(dtype, copy=False) if dtype is not None else arr


def read_clip(sample: dict, name: str) -> dict:
    """One clip's sample (a dict) as float64/int64/bool numpy arrays.

    Returns a dict with ``video_id``, ``action``, ``camera_name``, ``image_size`` (w, h),
    ``root`` (the root joint), ``frame_indices`` (T,), ``pred`` (T, J, 3) root-relative in
    normalised screen units, and where the sample has what they need: ``pred_mm`` (T, J, 3)
    root-relative mm (from ``factor_2_5d``), ``gt_mm`` (T, J, 3) root-relative mm,
    ``valid`` (T,) (``frame_valid``).

    Raises:
        ValueError, naming ``name`` (the caller) and the video: arrays of different lengths
        or shapes.
    """
    video_id = str(sample['video_id'])
    where = f'{name}: video {video_id!r}'
    raw = to_numpy(sample['pred'], np.float64)
    frames = to_numpy(sample['frame_indices']).astype(np.int64).reshape(-1)
    if raw.ndim != 3 or raw.shape[-1] != 3:
        raise ValueError(f'{where}: expected pred of shape (T, J, 3), got {raw.shape}')
    num_frames = raw.shape[0]
    if frames.shape[0] != num_frames:
        raise ValueError(f'{where}: {frames.shape[0]} frame_indices for {num_frames} frames')
    root = int(sample.get('root_index', 0) or 0)
    clip = dict(video_id=video_id, action=str(sample.get('action', '')),
                camera_name=str(sample.get('camera_name', '')),
                image_size=tuple(float(v) for v in sample['image_size']), root=root,
                frame_indices=frames, pred=root_relative(raw, root))
    if sample.get('factor_2_5d') is not None:
        factor = to_numpy(sample['factor_2_5d'], np.float64).reshape(-1)
        if factor.size == 1:
            factor = np.full(num_frames, factor.item())
        if factor.shape[0] != num_frames:
            raise ValueError(f'{where}: {factor.shape[0]} factor_2_5d values for '
                             f'{num_frames} frames')
        clip['pred_mm'] = normalized_to_mm(raw, clip['image_size'][0], factor, root)
    if sample.get('gt_mm') is not None:
        gt = to_numpy(sample['gt_mm'], np.float64)
        if gt.shape != raw.shape:
            raise ValueError(f'{where}: expected pred and gt_mm of shape (T, J, 3), got '
                             f'{raw.shape} and {gt.shape}')
        clip['gt_mm'] = root_relative(gt, root)
    if sample.get('frame_valid') is not None:
        valid = to_numpy(sample['frame_valid']).astype(bool).reshape(-1)
        if valid.shape[0] != num_frames:
            raise ValueError(f'{where}: {valid.shape[0]} frame_valid flags for '
                             f'{num_frames} frames')
        clip['valid'] = valid
    return clip


def merge_clips(clips: Sequence[dict], mean_keys: Sequence[str],
                same_keys: Sequence[str] = ()) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Assemble the overlapping clips of one video into one entry per frame.

    Each clip holds ``frame_indices`` (T,) and per-frame arrays (T, ...). A frame predicted by
    several clips gets the mean of their ``mean_keys`` arrays (predictions); ``same_keys``
    arrays (ground truth, validity) are the same in every clip and are copied. This also makes
    the duplicated samples that distributed samplers pad with harmless: identical predictions
    average to themselves.

    Returns:
        tuple: the sorted frame indices (F,) and {key: (F, ...) array}; means in float64.
    """
    idx = np.concatenate([c['frame_indices'] for c in clips])
    frames, inverse = np.unique(idx, return_inverse=True)
    inverse = inverse.reshape(-1)
    count = np.bincount(inverse, minlength=len(frames)).astype(np.float64)
    out = {}
    for key in mean_keys:
        values = np.concatenate([c[key] for c in clips]).astype(np.float64)
        total = np.zeros((len(frames), ) + values.shape[1:], dtype=np.float64)
        np.add.at(total, inverse, values)
        out[key] = total / count.reshape((-1, ) + (1, ) * (values.ndim - 1))
    for key in same_keys:
        values = np.concatenate([c[key] for c in clips])
        merged = np.empty((len(frames), ) + values.shape[1:], dtype=values.dtype)
        merged[inverse] = values
        out[key] = merged
    return frames, out


def assemble_videos(clips: Sequence[dict], mean_keys: Sequence[str],
                    same_keys: Sequence[str] = ()) -> List[Tuple[List[dict], np.ndarray,
                                                                 Dict[str, np.ndarray]]]:
    """Group ``clips`` by ``video_id`` (first appearance first) and merge each video's.

    Only the keys every clip of a video has are merged, so a video whose clips lack
    ``valid`` or ``pred_mm`` simply has none. Returns per video ``(its clips, frames (F,),
    {key: (F, ...)})`` (see :func:`merge_clips`).
    """
    by_video = defaultdict(list)
    for clip in clips:
        by_video[clip['video_id']].append(clip)
    out = []
    for video_clips in by_video.values():
        mean = [k for k in mean_keys if all(k in c for c in video_clips)]
        same = [k for k in same_keys if all(k in c for c in video_clips)]
        frames, arrays = merge_clips(video_clips, mean, same)
        out.append((video_clips, frames, arrays))
    return out
