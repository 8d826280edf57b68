"""MPI-INF-3DHP test-set evaluation in Python: PCK@150 mm, AUC over 0..150 mm, MPJPE.

What the MATLAB scripts shipped with the test set (``mpii_evaluate_errors.m``,
``mpii_compute_3d_pck.m``, ``mpii_get_pck_auc_joint_groups.m``) compute, and this metric
reproduces:

- per-joint errors are Euclidean distances between root-relative poses in millimetres, on the
  valid frames only (``valid_frame``);
- PCK: percentage of (frame, joint) pairs with error *strictly* below 150 mm, over the joints of
  the PCK/AUC joint groups (head top, neck, shoulders, elbows, wrists, hips, knees, ankles: the
  first 14 joints of the 17-joint test skeleton; the pelvis, spine and head are not counted);
- AUC: the mean of the PCK over the 31 thresholds 0, 5, ..., 150 mm, in percent (threshold 0
  never counts, so a perfect prediction has AUC 100 * 30 / 31 = 96.77);
- MPJPE: mean error over all 17 joints and the valid frames;
- each per test sequence (TS1-TS6) and over all valid frames pooled ('All'); per scene
  (green screen TS1-2, studio without green screen TS3-4, outdoor TS5-6) the frames of its
  sequences are pooled the same way.
"""
from collections import defaultdict
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import MMLogger

from dualpose.evaluation.functional import MPI_INF_3DHP_AUC_THRESHOLDS, auc_3d, mpjpe, pck_3d
from dualpose.registry import METRICS
from .lifting_metric import PoseLiftingMetric
from dualpose.utils.table import format_table

# the joints of the PCK/AUC joint groups of the test-set scripts (0-based, 17-joint test order)
MPI_INF_3DHP_PCK_JOINTS = tuple(range(14))
MPI_INF_3DHP_SCENES = {'GS': ('TS1', 'TS2'), 'noGS': ('TS3', 'TS4'), 'Outdoor': ('TS5', 'TS6')}


@METRICS.register_module()
class MpiInf3dhpMetric(PoseLiftingMetric):
    """PCK, AUC and MPJPE of MPI-INF-3DHP's test protocol, per sequence, scene and overall.

    The predictions go through the same conversion as :class:`PoseLiftingMetric` (normalised
    units -> millimetres with ``image_size`` and ``factor_2_5d``; root-relative at the sample's
    ``root_index``) and the same per-frame assembly of overlapping clips; frames whose
    ``frame_valid`` flag is False are not scored. The clip's ``action`` names its test sequence.

    Args:
        metrics (Sequence[str]): which of ``'pck', 'auc', 'mpjpe'`` to report.
        pck_threshold (float): PCK threshold in mm. Defaults to 150.
        auc_thresholds (Sequence[float]): thresholds of the AUC in mm. Defaults to
            0, 5, ..., 150.
        pck_joints (Sequence[int] | None): joints that PCK and AUC count. Defaults to the 14
            joints of the scripts' joint groups; None counts every joint.
        scenes (Mapping[str, Sequence[str]]): scene name -> its sequences. Defaults to
            GS: TS1, TS2; noGS: TS3, TS4; Outdoor: TS5, TS6.
        per_sequence (bool): also return ``'<metric>/<sequence>'`` and
            ``'<metric>/<scene>'``. Defaults to True.
        skip_videos, collect_device, prefix: as :class:`PoseLiftingMetric`; the default
            prefix is ``'3dhp'``.

    Returns (``compute_metrics``): ``'pck'``, ``'auc'``, ``'mpjpe'`` over all valid frames,
    ``'num_frames'``, and with ``per_sequence`` the per-sequence and per-scene values.
    """

    default_prefix: Optional[str] = '3dhp'
    allowed_metrics = ('pck', 'auc', 'mpjpe')

    def __init__(self,
                 metrics: Sequence[str] = ('pck', 'auc', 'mpjpe'),
                 pck_threshold: float = 150.0,
                 auc_thresholds: Sequence[float] = MPI_INF_3DHP_AUC_THRESHOLDS,
                 pck_joints: Optional[Sequence[int]] = MPI_INF_3DHP_PCK_JOINTS,
                 scenes: Mapping[str, Sequence[str]] = MPI_INF_3DHP_SCENES,
                 per_sequence: bool = True,
                 skip_videos: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(metrics=metrics, skip_videos=skip_videos, per_action=per_sequence,
                         collect_device=collect_device, prefix=prefix)
        self.pck_threshold = float(pck_threshold)
        self.auc_thresholds = tuple(float(t) for t in auc_thresholds)
        if not self.auc_thresholds:
            raise ValueError('MpiInf3dhpMetric: auc_thresholds is empty')
        self.pck_joints = None if pck_joints is None else [int(j) for j in pck_joints]
        self.scenes = {str(k): tuple(str(s) for s in v) for k, v in dict(scenes).items()}

    def _scores(self, pred: np.ndarray, gt: np.ndarray) -> Dict[str, float]:
        """PCK, AUC and MPJPE pooled over the frames of ``pred`` / ``gt`` (F, J, 3) mm."""
        pred_t, gt_t = torch.from_numpy(pred), torch.from_numpy(gt)
        num_joints = pred.shape[1]
        joints = self.pck_joints if self.pck_joints is not None else list(range(num_joints))
        bad = [j for j in joints if not 0 <= j < num_joints]
        if bad:
            raise ValueError(f'MpiInf3dhpMetric: pck_joints {bad} are out of range for poses of '
                             f'{num_joints} joints')
        scores = {}
        if 'pck' in self.metrics:
            scores['pck'] = float(pck_3d(pred_t[:, joints], gt_t[:, joints],
                                         self.pck_threshold).mean())
        if 'auc' in self.metrics:
            scores['auc'] = float(auc_3d(pred_t[:, joints], gt_t[:, joints],
                                         self.auc_thresholds).mean())
        if 'mpjpe' in self.metrics:
            scores['mpjpe'] = float(mpjpe(pred_t, gt_t).mean())
        return scores

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        videos = self.assemble_videos(results)
        pred_per_seq, gt_per_seq = defaultdict(list), defaultdict(list)
        for video in videos:
            valid = video['valid']
            pred_per_seq[video['action']].append(video['pred_mm'][valid])
            gt_per_seq[video['action']].append(video['gt_mm'][valid])
        sequences = sorted(pred_per_seq)
        pooled = {s: (np.concatenate(pred_per_seq[s]), np.concatenate(gt_per_seq[s]))
                  for s in sequences}
        pooled = {s: v for s, v in pooled.items() if len(v[0])}

        groups = {s: [s] for s in pooled}
        for scene, members in self.scenes.items():
            present = [s for s in members if s in pooled]
            if present:
                groups[scene] = present
        groups['All'] = list(pooled)
        table = {}
        for group, members in groups.items():
            pred = np.concatenate([pooled[s][0] for s in members])
            gt = np.concatenate([pooled[s][1] for s in members])
            table[group] = dict(self._scores(pred, gt), frames=len(pred))

        out = {m: table['All'][m] for m in self.metrics}
        out['num_frames'] = int(table['All']['frames'])
        if self.per_action:
            for group, scores in table.items():
                if group != 'All':
                    out.update({f'{m}/{group}': scores[m] for m in self.metrics})

        header = ['sequence'] + [f'{m} (mm)' if m == 'mpjpe' else f'{m} (%)'
                                 for m in self.metrics] + ['frames']
        rows = [[g] + [table[g][m] for m in self.metrics] + [table[g]['frames']]
                for g in table]
        MMLogger.get_current_instance().info(
            f'MPI-INF-3DHP evaluation (valid frames; PCK at {self.pck_threshold:g} mm, AUC over '
            f'{len(self.auc_thresholds)} thresholds {self.auc_thresholds[0]:g}..'
            f'{self.auc_thresholds[-1]:g} mm):\n{format_table(rows, header)}')
        return out
