"""Human3.6M-protocol evaluation of 3D pose lifting: MPJPE, P-MPJPE, N-MPJPE, MPJVE and
acceleration error in mm, per action and per joint."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from dualpose.evaluation.functional import accel_error, mpjpe, mpjve, n_mpjpe, p_mpjpe
from dualpose.evaluation.functional.clips import assemble_videos, read_clip
from dualpose.registry import METRICS
from dualpose.utils.table import format_table

__all__ = ['PoseLiftingMetric']

_FRAME_METRICS = {'mpjpe': mpjpe, 'p_mpjpe': p_mpjpe, 'n_mpjpe': n_mpjpe}
# metric -> (function of (pred, gt) along time, number of consecutive frames one value spans)
_TEMPORAL_METRICS = {'mpjve': (mpjve, 2), 'accel': (accel_error, 3)}
_ALL_METRICS = ('mpjpe', 'p_mpjpe', 'n_mpjpe', 'mpjve', 'accel')


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

            clip = read_clip(sample, name)
            missing = [k for k, have in (('gt_mm', 'gt_mm'), ('factor_2_5d', 'pred_mm'))
                       if have not in clip]
            if missing:
                raise ValueError(f'{name}: video {video_id!r}: the sample has no {missing}; '
                                 'scoring in mm needs the 3D labels and the 2.5D factor')
            self.results.append(
                dict(
                    video_id=video_id,
                    action=clip['action'],
                    frame_indices=clip['frame_indices'],
                    valid=clip.get('valid', np.ones(len(clip['frame_indices']), dtype=bool)),
                    pred_mm=clip['pred_mm'].astype(np.float32),
                    gt_mm=clip['gt_mm'].astype(np.float32)))

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
        for c in kept:  # results stored before frame_valid existed have no flags
            c.setdefault('valid', np.ones(len(c['frame_indices']), dtype=bool))
        videos = []
        for clips, frames, arrays in assemble_videos(kept, ('pred_mm', ), ('gt_mm', 'valid')):
            video_id = clips[0]['video_id']
            actions = {c['action'] for c in clips}
            if len(actions) != 1:
                raise ValueError(f'{name}: video {video_id!r} has clips of several '
                                 f'actions {sorted(actions)}')
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
