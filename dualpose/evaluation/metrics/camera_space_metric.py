"""Where the person is: errors of camera-space 3D (millimetres, camera frame) from a lifter
with a trajectory head."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from dualpose.codecs import camera_space_pose, default_camera
from dualpose.evaluation.functional import mpjpe, relative_depth_error
from dualpose.evaluation.functional.clips import assemble_videos, to_numpy
from dualpose.registry import METRICS
from dualpose.utils.table import format_table

__all__ = ['CameraSpaceMetric']

_ALL = ('root_error', 'root_depth_error_pct', 'mpjpe_camera')
_LABELS = dict(root_error='root position error (mm)',
               root_depth_error_pct='root depth error (% of depth)',
               mpjpe_camera='camera-space MPJPE (mm)')


@METRICS.register_module()
class CameraSpaceMetric(BaseMetric):
    """Errors of the root trajectory and of the camera-space pose, once per frame.

    Per frame, with the prediction put in the camera frame by
    :func:`~dualpose.codecs.camera_space_pose` (each joint back-projected through the sample's
    intrinsics from the predicted root position):

    - ``root_error``: distance between predicted and true root, mm;
    - ``root_depth_error_pct``: ``|z_pred - z_true| / z_true`` of the root, in percent;
    - ``mpjpe_camera``: mean distance of the joints, mm, not aligned in any way (the root's
      error included).

    Overlapping windows are merged (each frame once, the mean of its predictions), then the
    mean over the frames of an action, then over the actions, as :class:`PoseLiftingMetric`.

    Each data sample needs ``pred`` (T, J, 3), ``pred_root_camera`` (T, 3) mm (a
    ``PoseLifter`` with a ``traj_head``), ``gt_camera`` (T, J, 3) mm, and the metainfo
    ``video_id``, ``action``, ``frame_indices``, ``image_size`` and ``camera_intrinsics``
    (the documented default camera when absent).

    Args:
        metrics: which of ``'root_error', 'root_depth_error_pct', 'mpjpe_camera'``.
        skip_videos: video-id prefixes not scored.
        per_action (bool): also return ``'<metric>/<action>'``.
        prefix (str): default ``'camera'``.
    """

    default_prefix: Optional[str] = 'camera'

    def __init__(self, metrics: Sequence[str] = _ALL,
                 skip_videos: Optional[Union[str, Sequence[str]]] = None,
                 per_action: bool = True, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in metrics if m not in _ALL]
        if unknown or not metrics:
            raise ValueError(f'CameraSpaceMetric: unknown metrics {unknown}; choose a non-empty '
                             f'subset of {list(_ALL)}')
        self.metrics = metrics
        if isinstance(skip_videos, str):
            skip_videos = [skip_videos]
        self.skip_videos = tuple(skip_videos) if skip_videos else ()
        self.per_action = per_action

    def process(self, data_batch, data_samples) -> None:
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            video_id = str(sample['video_id'])
            if any(video_id.startswith(p) for p in self.skip_videos):
                self.results.append(dict(skipped=True, video_id=video_id))
                continue
            missing = [k for k in ('pred', 'pred_root_camera', 'gt_camera') if k not in sample]
            if missing:
                raise ValueError(f'CameraSpaceMetric: video {video_id!r}: the sample has no '
                                 f'{missing}; it needs a model with a trajectory head '
                                 '(PoseLifter traj_head) and camera-space ground truth '
                                 '(Human36mDataset with_camera=True)')
            size = np.asarray([float(v) for v in sample['image_size']])
            k = sample.get('camera_intrinsics')
            k = default_camera(size).as_array() if k is None else to_numpy(k, np.float64)
            root = int(sample.get('root_index', 0) or 0)
            rel = to_numpy(sample['pred'], np.float64)
            rel = rel - rel[:, root:root + 1]
            pred = camera_space_pose(rel, to_numpy(sample['pred_root_camera'], np.float64),
                                     size, k.reshape(4))
            self.results.append(dict(
                video_id=video_id, action=str(sample.get('action', '')), root=root,
                frame_indices=to_numpy(sample['frame_indices']).astype(np.int64).reshape(-1),
                pred_camera=pred.astype(np.float32),
                gt_camera=to_numpy(sample['gt_camera'], np.float32)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        kept = [r for r in results if not r.get('skipped', False)]
        if not kept:
            raise ValueError('CameraSpaceMetric: no frame left to score (every clip skipped '
                             f'by skip_videos={list(self.skip_videos)} or none processed)')
        errors = {m: defaultdict(list) for m in self.metrics}
        frames = 0
        for clips, _, arrays in assemble_videos(kept, ('pred_camera', ), ('gt_camera', )):
            action, root = clips[0]['action'], clips[0]['root']
            pred = torch.from_numpy(arrays['pred_camera'])
            gt = torch.from_numpy(arrays['gt_camera'].astype(np.float64))
            frames += len(pred)
            values = dict(
                root_error=mpjpe(pred[:, root:root + 1], gt[:, root:root + 1]),
                root_depth_error_pct=100 * relative_depth_error(pred[:, root:root + 1],
                                                                gt[:, root:root + 1]),
                mpjpe_camera=mpjpe(pred, gt))
            for m in self.metrics:
                errors[m][action].append(values[m].numpy())
        actions = sorted({a for m in errors.values() for a in m})
        per_action = {m: {a: float(np.concatenate(errors[m][a]).mean()) for a in actions}
                      for m in self.metrics}
        out = {m: float(np.mean(list(per_action[m].values()))) for m in self.metrics}
        out['num_frames'] = frames
        if self.per_action:
            out.update({f'{m}/{a}': v for m in self.metrics for a, v in per_action[m].items()})
        rows = [[a] + [per_action[m][a] for m in self.metrics] for a in actions]
        rows.append(['mean'] + [out[m] for m in self.metrics])
        table = format_table(rows, ['action'] + [_LABELS[m] for m in self.metrics])
        MMLogger.get_current_instance().info(
            f'Camera-space evaluation on {frames} frames (per action, then mean over '
            f'actions):\n{table}')
        return out
