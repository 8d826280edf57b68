"""Human3.6M-protocol evaluation of 3D pose lifting: MPJPE, P-MPJPE, N-MPJPE, MPJVE in mm."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from dualpose.evaluation.functional import mpjpe, mpjve, n_mpjpe, p_mpjpe
from dualpose.registry import METRICS
from .table import format_table

__all__ = ['PoseLiftingMetric', 'format_table']

_FRAME_METRICS = {'mpjpe': mpjpe, 'p_mpjpe': p_mpjpe, 'n_mpjpe': n_mpjpe}
_ALL_METRICS = ('mpjpe', 'p_mpjpe', 'n_mpjpe', 'mpjve')


def _to_numpy(value, dtype=None) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    return arr.astype(dtype, copy=False) if dtype is not None else arr


@METRICS.register_module()
class PoseLiftingMetric(BaseMetric):
    """Errors of root-relative 3D poses in millimetres, scored once per frame.

    Test windows overlap (a video's tail is covered by a last window that overlaps the previous
    one), so the metric assembles predictions per frame by the clips' ``frame_indices`` (global
    indices in the split): a frame predicted by several windows is scored once, with the mean of
    its predictions; frames never predicted are absent. Per frame it computes

    - ``mpjpe`` (protocol #1), ``p_mpjpe`` (protocol #2, Procrustes-aligned),
      ``n_mpjpe`` (scale-normalised);
    - ``mpjve``: velocity error between consecutive frame indices of the same video.

    Each is averaged over the frames (or velocity steps) of an action, and the reported value is
    the mean over actions (the Human3.6M protocol).

    Args:
        metrics (Sequence[str]): which of ``'mpjpe', 'p_mpjpe', 'n_mpjpe', 'mpjve'`` to report.
        skip_videos (Sequence[str], optional): video-id prefixes to drop (e.g. the S9 videos with
            corrupted ground truth, ``dataset_info['skip_videos']``); a clip is dropped if its
            ``video_id`` starts with any entry. Defaults to None (keep all).
        per_action (bool): also return ``'<metric>/<action>'`` values. Defaults to True.
        collect_device (str): device to gather results over ranks. Defaults to ``'cpu'``.
        prefix (str, optional): prefix of the returned keys. Defaults to ``'lift'``.

    Each data sample (a dict from ``PoseDataSample.to_dict()`` or a ``PoseDataSample``) needs
    the metainfo ``video_id``, ``action``, ``image_size`` (w, h), ``frame_indices`` (T,),
    ``factor_2_5d`` (T,) mm per pixel, optionally ``root_index`` (default 0), and the fields
    ``pred`` (T, J, 3) normalised screen units and ``gt_mm`` (T, J, 3) millimetres.
    """

    default_prefix: Optional[str] = 'lift'

    def __init__(self,
                 metrics: Sequence[str] = _ALL_METRICS,
                 skip_videos: Optional[Union[str, Sequence[str]]] = None,
                 per_action: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(metrics, str):
            metrics = [metrics]
        metrics = list(metrics)
        unknown = [m for m in metrics if m not in _ALL_METRICS]
        if unknown or not metrics:
            raise ValueError(f'PoseLiftingMetric: unknown metrics {unknown}; choose a non-empty '
                             f'subset of {list(_ALL_METRICS)}')
        self.metrics = metrics
        if isinstance(skip_videos, str):
            skip_videos = [skip_videos]
        self.skip_videos = tuple(skip_videos) if skip_videos else ()
        self.per_action = per_action

    # ------------------------------------------------------------------ process
    def _skipped(self, video_id: str) -> bool:
        return any(str(video_id).startswith(p) for p in self.skip_videos)

    def process(self, data_batch, data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        """Convert each clip's prediction to root-relative mm and store it (numpy, cpu).

        One entry is appended per sample, skipped ones included (as a small marker): mmengine's
        ``collect_results`` truncates the gathered list to the dataset size, which is only right
        when every sample contributes exactly one entry.
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            video_id = str(sample['video_id'])
            if self._skipped(video_id):
                self.results.append(dict(skipped=True, video_id=video_id))
                continue

            pred = _to_numpy(sample['pred'], np.float64)
            gt = _to_numpy(sample['gt_mm'], np.float64)
            frame_indices = _to_numpy(sample['frame_indices']).astype(np.int64).reshape(-1)
            if pred.ndim != 3 or pred.shape != gt.shape:
                raise ValueError(f'PoseLiftingMetric: expected pred and gt_mm of shape (T, J, 3), '
                                 f'got {pred.shape} and {gt.shape} (video {video_id!r})')
            num_frames = pred.shape[0]
            if frame_indices.shape[0] != num_frames:
                raise ValueError(f'PoseLiftingMetric: {frame_indices.shape[0]} frame_indices for '
                                 f'{num_frames} frames (video {video_id!r})')
            factor = _to_numpy(sample['factor_2_5d'], np.float64).reshape(-1)
            if factor.size == 1:
                factor = np.full(num_frames, factor.item())
            if factor.shape[0] != num_frames:
                raise ValueError(f'PoseLiftingMetric: {factor.shape[0]} factor_2_5d values for '
                                 f'{num_frames} frames (video {video_id!r})')
            width = float(sample['image_size'][0])
            root = int(sample.get('root_index', 0) or 0)

            # normalised screen units -> pixels (x w/2) -> millimetres (x mm per pixel)
            pred_mm = pred * (width / 2.0) * factor[:, None, None]
            pred_mm = pred_mm - pred_mm[:, root:root + 1]
            gt_mm = gt - gt[:, root:root + 1]
            self.results.append(
                dict(
                    video_id=video_id,
                    action=str(sample['action']),
                    frame_indices=frame_indices,
                    pred_mm=pred_mm.astype(np.float32),
                    gt_mm=gt_mm.astype(np.float32)))

    # ------------------------------------------------------------------ compute
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Assemble per frame, score, average per action, then over actions.

        Returns:
            dict: ``'mpjpe'``, ``'p_mpjpe'``, ``'n_mpjpe'``, ``'mpjve'`` (those asked for; mean
            over actions, mm), ``'num_frames'`` (frames scored) and, with ``per_action``,
            ``'<metric>/<action>'``.
        """
        kept = [r for r in results if not r.get('skipped', False)]
        if not kept:
            skipped = sorted({r['video_id'] for r in results if r.get('skipped', False)})
            if skipped:
                why = (f'all {len(results)} clips were dropped by skip_videos='
                       f'{list(self.skip_videos)} (videos {skipped[:5]}'
                       f'{" ..." if len(skipped) > 5 else ""})')
            else:
                why = 'no clip was processed'
            raise ValueError(f'PoseLiftingMetric: no frame left to score: {why}')

        clips_per_video = defaultdict(list)
        for r in kept:
            clips_per_video[r['video_id']].append(r)

        # per action: list of per-frame (or per-step) error arrays
        errors = {m: defaultdict(list) for m in _ALL_METRICS}
        num_frames = 0
        for video_id, clips in clips_per_video.items():
            actions = {c['action'] for c in clips}
            if len(actions) != 1:
                raise ValueError(f'PoseLiftingMetric: video {video_id!r} has clips of several '
                                 f'actions {sorted(actions)}')
            action = actions.pop()
            idx = np.concatenate([c['frame_indices'] for c in clips])
            preds = np.concatenate([c['pred_mm'] for c in clips]).astype(np.float64)
            gts = np.concatenate([c['gt_mm'] for c in clips]).astype(np.float64)
            # Each frame once, with the mean of its overlapping predictions. This also makes the
            # duplicated samples that distributed samplers pad with harmless: identical
            # predictions average to themselves.
            frames, inverse = np.unique(idx, return_inverse=True)  # frames sorted
            inverse = inverse.reshape(-1)
            pred_sum = np.zeros((len(frames), ) + preds.shape[1:], dtype=np.float64)
            count = np.zeros(len(frames), dtype=np.float64)
            np.add.at(pred_sum, inverse, preds)
            np.add.at(count, inverse, 1.0)
            pred_avg = pred_sum / count[:, None, None]
            gt_avg = np.empty_like(pred_avg)
            gt_avg[inverse] = gts  # the same ground truth in every window
            num_frames += len(frames)

            pred_t = torch.from_numpy(pred_avg)
            gt_t = torch.from_numpy(gt_avg)
            for name, fn in _FRAME_METRICS.items():
                if name in self.metrics:
                    errors[name][action].append(fn(pred_t, gt_t).numpy())
            if 'mpjve' in self.metrics:
                consecutive = np.diff(frames) == 1
                if len(frames) > 1:
                    vel = mpjve(pred_t, gt_t, dim=-3).numpy()
                    errors['mpjve'][action].append(vel[consecutive])

        out: Dict[str, float] = {}
        actions = sorted({r['action'] for r in kept})
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
        MMLogger.get_current_instance().info(
            f'Pose lifting evaluation on {num_frames} frames of {len(clips_per_video)} videos '
            f'(per action, then mean over actions):\n{table}')
        return out
