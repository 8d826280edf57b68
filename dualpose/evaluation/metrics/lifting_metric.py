"""Human3.6M-protocol evaluation of 3D pose lifting: MPJPE, P-MPJPE, N-MPJPE, MPJVE and
acceleration error in mm, per action and per joint."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from dualpose.codecs import normalized_to_mm, root_relative
from dualpose.evaluation.functional import accel_error, mpjpe, mpjve, n_mpjpe, p_mpjpe
from dualpose.registry import METRICS
from .table import format_table

__all__ = ['PoseLiftingMetric', 'merge_clips', 'to_numpy']

_FRAME_METRICS = {'mpjpe': mpjpe, 'p_mpjpe': p_mpjpe, 'n_mpjpe': n_mpjpe}
# metric -> (function of (pred, gt) along time, number of consecutive frames one value spans)
_TEMPORAL_METRICS = {'mpjve': (mpjve, 2), 'accel': (accel_error, 3)}
_ALL_METRICS = ('mpjpe', 'p_mpjpe', 'n_mpjpe', 'mpjve', 'accel')


def to_numpy(value, dtype=None) -> np.ndarray:
    """A tensor, array or sequence as a numpy array (on the cpu), optionally cast."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    return arr.astype(dtype, copy=False) if dtype is not None else arr


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


def _spans(frames: np.ndarray, valid: np.ndarray, length: int) -> np.ndarray:
    """Which windows of ``length`` neighbouring entries are consecutive frames, all valid."""
    n = len(frames) - length + 1
    if n <= 0:
        return np.zeros(0, dtype=bool)
    ok = np.ones(n, dtype=bool)
    for i in range(length):
        ok &= valid[i:i + n]
        if i:
            ok &= frames[i:i + n] - frames[:n] == i
    return ok


@METRICS.register_module()
class PoseLiftingMetric(BaseMetric):
    """Errors of root-relative 3D poses in millimetres, scored once per frame.

    Test windows overlap (a video's tail is covered by a last window that overlaps the previous
    one), so the metric assembles predictions per frame by the clips' ``frame_indices`` (global
    indices in the split): a frame predicted by several windows is scored once, with the mean of
    its predictions; frames never predicted are absent. Per frame it computes

    - ``mpjpe`` (protocol #1), ``p_mpjpe`` (protocol #2, Procrustes-aligned),
      ``n_mpjpe`` (scale-normalised);
    - ``mpjve``: velocity error between consecutive frame indices of the same video;
    - ``accel``: acceleration error (second differences) over three consecutive frames.

    Each is averaged over the frames (or time steps) of an action, and the reported value is
    the mean over actions (the Human3.6M protocol). Frames whose ``frame_valid`` flag is False
    (MPI-INF-3DHP) are not scored, and no time step that involves them.

    Args:
        metrics (Sequence[str]): which of ``'mpjpe', 'p_mpjpe', 'n_mpjpe', 'mpjve', 'accel'``
            to report.
        skip_videos (Sequence[str], optional): video-id prefixes to drop (e.g. the S9 videos with
            corrupted ground truth, ``dataset_info['skip_videos']``); a clip is dropped if its
            ``video_id`` starts with any entry. Defaults to None (keep all).
        per_action (bool): also return ``'<metric>/<action>'`` values. Defaults to True.
        per_joint (bool): also log a table of the MPJPE of each joint and return
            ``'mpjpe_joint/<joint name>'`` (per action, then mean over actions; joint names
            from the dataset's metainfo). Defaults to False.
        collect_device (str): device to gather results over ranks. Defaults to ``'cpu'``.
        prefix (str, optional): prefix of the returned keys. Defaults to ``'lift'``.

    Each data sample (a dict from ``PoseDataSample.to_dict()`` or a ``PoseDataSample``) needs
    the metainfo ``video_id``, ``action``, ``image_size`` (w, h), ``frame_indices`` (T,),
    ``factor_2_5d`` (T,) mm per pixel, optionally ``root_index`` (default 0) and
    ``frame_valid`` (T,) bool, and the fields ``pred`` (T, J, 3) normalised screen units and
    ``gt_mm`` (T, J, 3) millimetres.
    """

    default_prefix: Optional[str] = 'lift'
    allowed_metrics: Tuple[str, ...] = _ALL_METRICS

    def __init__(self,
                 metrics: Sequence[str] = _ALL_METRICS,
                 skip_videos: Optional[Union[str, Sequence[str]]] = None,
                 per_action: bool = True,
                 per_joint: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        name = type(self).__name__
        if isinstance(metrics, str):
            metrics = [metrics]
        metrics = list(metrics)
        unknown = [m for m in metrics if m not in self.allowed_metrics]
        if unknown or not metrics:
            raise ValueError(f'{name}: unknown metrics {unknown}; choose a non-empty '
                             f'subset of {list(self.allowed_metrics)}')
        self.metrics = metrics
        if isinstance(skip_videos, str):
            skip_videos = [skip_videos]
        self.skip_videos = tuple(skip_videos) if skip_videos else ()
        self.per_action = per_action
        self.per_joint = per_joint

    # ------------------------------------------------------------------ process
    def _skipped(self, video_id: str) -> bool:
        return any(str(video_id).startswith(p) for p in self.skip_videos)

    def process(self, data_batch, data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        """Convert each clip's prediction to root-relative mm and store it (numpy, cpu).

        One entry is appended per sample, skipped ones included (as a small marker): mmengine's
        ``collect_results`` truncates the gathered list to the dataset size, which is only right
        when every sample contributes exactly one entry.
        """
        name = type(self).__name__
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            video_id = str(sample['video_id'])
            if self._skipped(video_id):
                self.results.append(dict(skipped=True, video_id=video_id))
                continue

            pred = to_numpy(sample['pred'], np.float64)
            gt = to_numpy(sample['gt_mm'], np.float64)
            frame_indices = to_numpy(sample['frame_indices']).astype(np.int64).reshape(-1)
            if pred.ndim != 3 or pred.shape != gt.shape:
                raise ValueError(f'{name}: expected pred and gt_mm of shape (T, J, 3), '
                                 f'got {pred.shape} and {gt.shape} (video {video_id!r})')
            num_frames = pred.shape[0]
            if frame_indices.shape[0] != num_frames:
                raise ValueError(f'{name}: {frame_indices.shape[0]} frame_indices for '
                                 f'{num_frames} frames (video {video_id!r})')
            factor = to_numpy(sample['factor_2_5d'], np.float64).reshape(-1)
            if factor.size == 1:
                factor = np.full(num_frames, factor.item())
            if factor.shape[0] != num_frames:
                raise ValueError(f'{name}: {factor.shape[0]} factor_2_5d values for '
                                 f'{num_frames} frames (video {video_id!r})')
            valid = sample.get('frame_valid')
            valid = (np.ones(num_frames, dtype=bool) if valid is None
                     else to_numpy(valid).astype(bool).reshape(-1))
            if valid.shape[0] != num_frames:
                raise ValueError(f'{name}: {valid.shape[0]} frame_valid flags for '
                                 f'{num_frames} frames (video {video_id!r})')
            width = float(sample['image_size'][0])
            root = int(sample.get('root_index', 0) or 0)

            pred_mm = normalized_to_mm(pred, width, factor, root)
            gt_mm = root_relative(gt, root)
            self.results.append(
                dict(
                    video_id=video_id,
                    action=str(sample['action']),
                    frame_indices=frame_indices,
                    valid=valid,
                    pred_mm=pred_mm.astype(np.float32),
                    gt_mm=gt_mm.astype(np.float32)))

    # ------------------------------------------------------------------ assemble
    def assemble_videos(self, results: List[dict]) -> List[dict]:
        """Per video: ``video_id``, ``action``, ``frames`` (F,), ``valid`` (F,) bool, and
        ``pred_mm``, ``gt_mm`` (F, J, 3) float64, each frame once (see :func:`merge_clips`)."""
        name = type(self).__name__
        kept = [r for r in results if not r.get('skipped', False)]
        if not kept:
            skipped = sorted({r['video_id'] for r in results if r.get('skipped', False)})
            if skipped:
                why = (f'all {len(results)} clips were dropped by skip_videos='
                       f'{list(self.skip_videos)} (videos {skipped[:5]}'
                       f'{" ..." if len(skipped) > 5 else ""})')
            else:
                why = 'no clip was processed'
            raise ValueError(f'{name}: no frame left to score: {why}')
        clips_per_video = defaultdict(list)
        for r in kept:
            clips_per_video[r['video_id']].append(r)
        videos = []
        for video_id, clips in clips_per_video.items():
            actions = {c['action'] for c in clips}
            if len(actions) != 1:
                raise ValueError(f'{name}: video {video_id!r} has clips of several '
                                 f'actions {sorted(actions)}')
            for c in clips:  # results stored before frame_valid existed have no flags
                c.setdefault('valid', np.ones(len(c['frame_indices']), dtype=bool))
            frames, arrays = merge_clips(clips, ('pred_mm', ), ('gt_mm', 'valid'))
            arrays['gt_mm'] = arrays['gt_mm'].astype(np.float64)
            videos.append(dict(video_id=video_id, action=actions.pop(), frames=frames,
                               **arrays))
        if not any(v['valid'].any() for v in videos):
            raise ValueError(f'{name}: no frame left to score: every frame is flagged '
                             'invalid (frame_valid)')
        return videos

    # ------------------------------------------------------------------ compute
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Assemble per frame, score, average per action, then over actions.

        Returns:
            dict: each metric asked for (mean over actions, mm), ``'num_frames'`` (frames
            scored), with ``per_action`` ``'<metric>/<action>'``, with ``per_joint``
            ``'mpjpe_joint/<joint>'``.
        """
        videos = self.assemble_videos(results)
        # per action: list of per-frame (or per-step) error arrays
        errors = {m: defaultdict(list) for m in self.metrics}
        joint_errors = defaultdict(list)
        num_frames = 0
        for video in videos:
            action, valid = video['action'], video['valid']
            pred_t = torch.from_numpy(video['pred_mm'])
            gt_t = torch.from_numpy(video['gt_mm'])
            num_frames += int(valid.sum())
            for name, fn in _FRAME_METRICS.items():
                if name in self.metrics:
                    errors[name][action].append(fn(pred_t[valid], gt_t[valid]).numpy())
            for name, (fn, span) in _TEMPORAL_METRICS.items():
                if name in self.metrics:
                    ok = _spans(video['frames'], valid, span)
                    if ok.any():
                        errors[name][action].append(fn(pred_t, gt_t, dim=-3).numpy()[ok])
            if self.per_joint:
                dist = torch.linalg.vector_norm(pred_t[valid] - gt_t[valid], dim=-1)
                joint_errors[action].append(dist.numpy())

        out: Dict[str, float] = {}
        actions = sorted({v['action'] for v in videos})
        per_action = {m: {} for m in self.metrics}
        for m in self.metrics:
            for a in actions:
                chunks = errors[m].get(a, [])
                values = np.concatenate(chunks) if chunks else np.zeros(0)
                # an action with no consecutive frames has no velocity step: left out of mpjve
                if values.size:
                    per_action[m][a] = float(values.mean())
            scored = list(per_action[m].values())
            out[m] = float(np.mean(scored)) if scored else float('nan')
        out['num_frames'] = int(num_frames)
        if self.per_action:
            for m in self.metrics:
                for a, v in per_action[m].items():
                    out[f'{m}/{a}'] = v

        rows = [[a] + [per_action[m].get(a, float('nan')) for m in self.metrics]
                for a in actions]
        rows.append(['mean'] + [out[m] for m in self.metrics])
        table = format_table(rows, ['action'] + [f'{m} (mm)' for m in self.metrics])
        logger = MMLogger.get_current_instance()
        logger.info(
            f'Pose lifting evaluation on {num_frames} frames of {len(videos)} videos '
            f'(per action, then mean over actions):\n{table}')
        if self.per_joint:
            per_joint = self._per_joint_table(joint_errors)
            out.update({f'mpjpe_joint/{j}': v for j, v in per_joint.items()})
        return out

    def joint_names(self, num_joints: int) -> List[str]:
        """Joint names from the dataset metainfo, or ``joint_<j>`` without one."""
        names = list((self.dataset_meta or {}).get('joint_names') or [])
        return names if len(names) == num_joints else [f'joint_{j}' for j in range(num_joints)]

    def _per_joint_table(self, joint_errors: Dict[str, List[np.ndarray]]) -> Dict[str, float]:
        """MPJPE of each joint: mean over the frames of an action, then over actions."""
        per_action = {a: np.concatenate(c).mean(0) for a, c in joint_errors.items()
                      if sum(len(x) for x in c)}
        if not per_action:
            return {}
        mean = np.mean(np.stack(list(per_action.values())), axis=0)
        names = self.joint_names(len(mean))
        table = format_table([[n, float(v)] for n, v in zip(names, mean)],
                             ['joint', 'mpjpe (mm)'])
        MMLogger.get_current_instance().info(
            f'Per-joint MPJPE (per action, then mean over actions):\n{table}')
        return {n: float(v) for n, v in zip(names, mean)}
