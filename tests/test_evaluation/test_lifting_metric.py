import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from dualpose.evaluation.metrics import PoseLiftingMetric, format_table
from dualpose.registry import METRICS
from dualpose.structures.pose_data_sample import PoseDataSample

H36M_CFG = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets', 'h36m.py')
OFFSET = np.array([3.0, 4.0, 0.0])  # a 5 mm displacement


def _gt(frames, num_joints=2):
    """Root-relative gt (mm): root at 0, the other joints moving along x with the frame index."""
    frames = np.asarray(frames, dtype=np.float64)
    gt = np.zeros((len(frames), num_joints, 3))
    for j in range(1, num_joints):
        gt[:, j, 0] = 100.0 * j + 10.0 * frames
        gt[:, j, 1] = 30.0 * j
    return gt


def _sample(video_id, action, frames, pred_mm, gt_mm, width=2, factor=1.0):
    """A dict sample as produced by ``PoseDataSample.to_dict()``; w=2, factor=1 -> pred in mm."""
    frames = np.asarray(frames, dtype=np.int64)
    factor = np.broadcast_to(np.asarray(factor, dtype=np.float64), (len(frames), )).copy()
    pred = pred_mm / (width / 2.0) / factor[:, None, None]
    return dict(
        video_id=video_id, action=action, image_size=(width, width), frame_indices=frames,
        factor_2_5d=factor, root_index=0, pred=torch.as_tensor(pred, dtype=torch.float32),
        gt_mm=torch.as_tensor(gt_mm, dtype=torch.float32))


def _offset_sample(video_id, action, frames, offset):
    """Joint 1 displaced by ``offset`` (root untouched): per-frame mpjpe = |offset| / 2."""
    gt = _gt(frames)
    pred = gt.copy()
    pred[:, 1] += offset
    return _sample(video_id, action, frames, pred, gt)


def _run(metric, batches):
    for batch in batches:
        metric.process(None, batch)
    return metric.compute_metrics(metric.results)


def test_build_from_registry():
    metric = METRICS.build(dict(type='PoseLiftingMetric', metrics=['mpjpe']))
    assert isinstance(metric, PoseLiftingMetric)
    assert metric.prefix == 'lift'
    with pytest.raises(ValueError, match='unknown metrics'):
        PoseLiftingMetric(metrics=['pck'])


def test_overlapping_windows_counted_once_and_averaged():
    # video of 10 frames; windows [0..5] (+5 mm offset) and [4..9] (-5 mm offset) overlap on 4, 5
    # where the mean prediction equals the ground truth.
    win_a = _offset_sample('s_11_act_02_subact_01_ca_01', 'Walk', range(0, 6), OFFSET)
    win_b = _offset_sample('s_11_act_02_subact_01_ca_01', 'Walk', range(4, 10), -OFFSET)
    res = _run(PoseLiftingMetric(), [[win_b], [win_a]])  # order does not matter
    assert res['num_frames'] == 10
    # frames 0-3 and 6-9: 2.5 mm; frames 4, 5: 0 mm -> 20 / 10 (double counting would give 2.5)
    assert res['mpjpe'] == pytest.approx(2.0, abs=1e-4)
    assert res['mpjpe/Walk'] == pytest.approx(2.0, abs=1e-4)
    # velocity: joint 1 jumps by 5 mm at steps 3->4 and 5->6 -> 2 * 2.5 / 9 steps
    assert res['mpjve'] == pytest.approx(5.0 / 9.0, abs=1e-4)
    # two joints can always be aligned by a similarity
    assert res['p_mpjpe'] == pytest.approx(0.0, abs=1e-3)
    # acceleration: the error jumps by +-5 mm around frames 3-6 -> second differences of
    # 5 mm (joint 1) at the 4 steps centred on 3, 4, 5, 6 of 8 -> 4 * 2.5 / 8
    assert res['accel'] == pytest.approx(1.25, abs=1e-4)
    assert set(res) == {'mpjpe', 'p_mpjpe', 'n_mpjpe', 'mpjve', 'accel', 'num_frames',
                        'mpjpe/Walk', 'p_mpjpe/Walk', 'n_mpjpe/Walk', 'mpjve/Walk', 'accel/Walk'}


def test_duplicated_padding_samples_are_harmless():
    win = _offset_sample('v', 'Walk', range(0, 4), OFFSET)
    res = _run(PoseLiftingMetric(metrics=['mpjpe']), [[win, win], [win]])
    assert res['num_frames'] == 4
    assert res['mpjpe'] == pytest.approx(2.5, abs=1e-4)


def test_mpjve_only_between_consecutive_frames():
    # frames 0, 1, 2 exact; frames 5, 6 displaced: the 2->5 jump is not a velocity step
    exact = _offset_sample('v', 'Sit', [0, 1, 2], np.zeros(3))
    moved = _offset_sample('v', 'Sit', [5, 6], OFFSET)
    res = _run(PoseLiftingMetric(metrics=['mpjpe', 'mpjve']), [[exact, moved]])
    assert res['num_frames'] == 5
    assert res['mpjve'] == pytest.approx(0.0, abs=1e-4)
    assert res['mpjpe'] == pytest.approx(2.0 * 2.5 / 5, abs=1e-4)
    assert 'p_mpjpe' not in res and 'n_mpjpe' not in res


def test_action_mean_differs_from_frame_mean():
    # action A: 2 frames of 2.5 mm; action B: 6 frames of 5 mm (two videos)
    a = _offset_sample('s_11_act_02_subact_01_ca_01', 'A', range(0, 2), OFFSET)
    b1 = _offset_sample('s_11_act_03_subact_01_ca_01', 'B', range(10, 13), 2 * OFFSET)
    b2 = _offset_sample('s_11_act_03_subact_02_ca_01', 'B', range(20, 23), 2 * OFFSET)
    res = _run(PoseLiftingMetric(metrics=['mpjpe']), [[a, b1], [b2]])
    assert res['num_frames'] == 8
    assert res['mpjpe/A'] == pytest.approx(2.5, abs=1e-4)
    assert res['mpjpe/B'] == pytest.approx(5.0, abs=1e-4)
    # mean over actions 3.75, not the frame mean (2 * 2.5 + 6 * 5) / 8 = 4.375
    assert res['mpjpe'] == pytest.approx(3.75, abs=1e-4)

    res = _run(PoseLiftingMetric(metrics=['mpjpe'], per_action=False), [[a, b1, b2]])
    assert set(res) == {'mpjpe', 'num_frames'}


def test_skip_videos_drop_by_prefix():
    skip = Config.fromfile(H36M_CFG).dataset_info['skip_videos']
    bad = _offset_sample(skip[0] + '_ca_01', 'Walk', range(0, 4), 20 * OFFSET)
    good = _offset_sample('s_09_act_05_subact_01_ca_01', 'Walk', range(4, 8), OFFSET)
    res = _run(PoseLiftingMetric(skip_videos=skip), [[bad, good]])
    assert res['num_frames'] == 4
    assert res['mpjpe'] == pytest.approx(2.5, abs=1e-4)
    # without the skip-list the corrupted video counts
    res = _run(PoseLiftingMetric(), [[bad, good]])
    assert res['num_frames'] == 8

    metric = PoseLiftingMetric(skip_videos=skip)
    metric.process(None, [bad])
    with pytest.raises(ValueError, match='no frame left to score.*skip_videos'):
        metric.compute_metrics(metric.results)
    with pytest.raises(ValueError, match='no clip was processed'):
        PoseLiftingMetric().compute_metrics([])


def test_unit_conversion_and_root_relative():
    rng = np.random.default_rng(0)
    frames = np.arange(3)
    factor = np.array([4.0, 5.0, 6.0])
    width = 1000
    gt = rng.normal(scale=300.0, size=(3, 17, 3))
    gt -= gt[:, :1]
    # pred normalised = gt_mm / (w/2) / factor, plus an arbitrary root translation per frame
    pred = gt / (width / 2) / factor[:, None, None] + rng.normal(size=(3, 1, 3))
    sample = PoseDataSample(
        metainfo=dict(video_id='v', action='Eat', image_size=(width, 1002), frame_indices=frames,
                      factor_2_5d=factor, root_index=0))
    sample.pred = torch.as_tensor(pred, dtype=torch.float32)
    sample.gt_mm = torch.as_tensor(gt + 50.0, dtype=torch.float64)  # gt re-rooted as well
    metric = PoseLiftingMetric()
    metric.process(None, [sample, sample.to_dict()])
    res = metric.compute_metrics(metric.results)
    assert res['num_frames'] == 3
    for key in ('mpjpe', 'p_mpjpe', 'n_mpjpe', 'mpjve'):
        assert res[key] == pytest.approx(0.0, abs=1e-2), key

    # a prediction scaled by 2 (in normalised units) has error = mean joint norm of the gt
    sample.pred = torch.as_tensor(2 * pred, dtype=torch.float32)
    metric.results.clear()
    metric.process(None, [sample])
    res = metric.compute_metrics(metric.results)
    expected = np.linalg.norm(gt, axis=-1).mean()
    assert res['mpjpe'] == pytest.approx(expected, rel=1e-4)
    assert res['n_mpjpe'] == pytest.approx(0.0, abs=1e-2)
    assert res['p_mpjpe'] == pytest.approx(0.0, abs=1e-2)


def test_evaluate_adds_prefix_and_counts_skipped_samples():
    skip = ['s_09_act_05_subact_02']
    bad = _offset_sample('s_09_act_05_subact_02_ca_01', 'Walk', range(0, 4), OFFSET)
    good = _offset_sample('s_09_act_05_subact_01_ca_01', 'Walk', range(4, 8), OFFSET)
    metric = PoseLiftingMetric(metrics=['mpjpe'], skip_videos=skip)
    metric.process(None, [bad, good])
    res = metric.evaluate(size=2)  # one result per sample, the skipped one included
    assert res['lift/mpjpe'] == pytest.approx(2.5, abs=1e-4)
    assert res['lift/num_frames'] == 4
    assert metric.results == []


def test_shape_errors():
    metric = PoseLiftingMetric()
    sample = _offset_sample('v', 'Walk', range(0, 4), OFFSET)
    sample['frame_indices'] = np.arange(3)
    with pytest.raises(ValueError, match='frame_indices'):
        metric.process(None, [sample])


def test_format_table():
    text = format_table([['Walk', 40.123, 3], ['mean', 41.0, 3]], ['action', 'mpjpe', 'n'])
    lines = text.splitlines()
    assert lines[0].split() == ['action', '|', 'mpjpe', '|', 'n']
    assert set(lines[1]) <= {'-', '+'}
    assert lines[2].split() == ['Walk', '|', '40.12', '|', '3']
    assert lines[3].startswith('mean')
    assert len({len(line) for line in lines[:3]}) == 1
    with pytest.raises(ValueError, match='cells'):
        format_table([['a']], ['x', 'y'])


def test_invalid_frames_are_not_scored():
    # frames 0..5; frame 2 invalid with a large error: not in mpjpe, and no velocity or
    # acceleration step touching it
    sample = _offset_sample('v', 'Walk', range(6), OFFSET)
    sample['pred'][2, 1] += 100.0
    sample['frame_valid'] = np.array([1, 1, 0, 1, 1, 1], dtype=bool)
    res = _run(PoseLiftingMetric(metrics=['mpjpe', 'mpjve', 'accel']), [[sample]])
    assert res['num_frames'] == 5
    assert res['mpjpe'] == pytest.approx(2.5, abs=1e-4)
    assert res['mpjve'] == pytest.approx(0.0, abs=1e-4)  # steps 0-1, 3-4, 4-5 only
    assert res['accel'] == pytest.approx(0.0, abs=1e-4)  # centred on 4 only
    sample['frame_valid'] = np.ones(4, dtype=bool)
    with pytest.raises(ValueError, match='4 frame_valid flags for 6 frames'):
        PoseLiftingMetric().process(None, [sample])


def test_per_joint_table_per_action_then_mean():
    # action A: joint 1 off by 5 mm; action B (three times the frames): joint 1 off by 10 mm
    a = _offset_sample('va', 'A', range(0, 2), OFFSET)
    b = _offset_sample('vb', 'B', range(10, 16), 2 * OFFSET)
    metric = PoseLiftingMetric(metrics=['mpjpe'], per_joint=True)
    metric.dataset_meta = dict(joint_names=['pelvis', 'knee'])
    res = _run(metric, [[a, b]])
    assert res['mpjpe_joint/pelvis'] == pytest.approx(0.0, abs=1e-5)
    assert res['mpjpe_joint/knee'] == pytest.approx(7.5, abs=1e-4)  # (5 + 10) / 2
    # without names from the metainfo the joints are numbered
    res = _run(PoseLiftingMetric(metrics=['mpjpe'], per_joint=True), [[a]])
    assert res['mpjpe_joint/joint_1'] == pytest.approx(5.0, abs=1e-4)
