import numpy as np
import pytest
import torch

from dualpose.evaluation.metrics import MpiInf3dhpMetric
from dualpose.registry import METRICS

ROOT = 14


def _sample(seq, frames, distances, valid=None):
    """Clip of ``seq`` whose joint j is ``distances[j]`` mm off along x in every frame.

    Width 2 and factor 1: the prediction in normalised units is in millimetres."""
    frames = np.asarray(frames, dtype=np.int64)
    rng = np.random.default_rng(len(frames))
    # whole millimetres: the distances stay exact, so those on a threshold stay on it
    gt = rng.integers(-500, 500, size=(len(frames), 17, 3)).astype(np.float64)
    pred = gt.copy()
    pred[..., 0] += np.asarray(distances, dtype=np.float64)
    sample = dict(video_id=seq, action=seq, image_size=(2, 2), frame_indices=frames,
                  factor_2_5d=np.ones(len(frames)), root_index=ROOT,
                  pred=torch.as_tensor(pred), gt_mm=torch.as_tensor(gt))
    if valid is not None:
        sample['frame_valid'] = np.asarray(valid, dtype=bool)
    return sample


def _run(metric, samples):
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


def _constant(error):
    """Every joint but the root ``error`` mm off (the root stays: poses are root-relative)."""
    d = np.full(17, float(error))
    d[ROOT] = 0.0
    return d


def test_registered_with_prefix():
    metric = METRICS.build(dict(type='MpiInf3dhpMetric'))
    assert isinstance(metric, MpiInf3dhpMetric) and metric.prefix == '3dhp'
    with pytest.raises(ValueError, match='unknown metrics'):
        MpiInf3dhpMetric(metrics=['p_mpjpe'])


def test_hand_computed_pck_auc_mpjpe():
    # the 14 PCK joints on and around the thresholds; pelvis (root) 0; spine and head 1 m off
    # (not counted by PCK/AUC, counted by MPJPE)
    d14 = [0.0, 4.9, 5.0, 5.1, 50.0, 99.99, 100.0, 149.9, 150.0, 150.1, 200.0, 0.0, 0.0, 0.0]
    dist = d14 + [0.0, 1000.0, 1000.0]
    res = _run(MpiInf3dhpMetric(), [_sample('TS1', range(4), dist)])
    # PCK: 11 of 14 strictly below 150 mm
    assert res['pck'] == pytest.approx(100 * 11 / 14)
    # AUC: thresholds below which each distance lies, of 0, 5, ..., 150:
    # 30 + 30 + 29 + 29 + 20 + 11 + 10 + 1 + 0 + 0 + 0 + 3 * 30 = 250 of 14 * 31
    assert res['auc'] == pytest.approx(100 * 250 / (14 * 31))
    assert res['mpjpe'] == pytest.approx((sum(d14) + 2000.0) / 17)
    assert res['num_frames'] == 4
    # every joint counted: the 1 m joints are misses too, the root a hit
    res = _run(MpiInf3dhpMetric(pck_joints=None), [_sample('TS1', range(4), dist)])
    assert res['pck'] == pytest.approx(100 * 12 / 17)


def test_perfect_and_constant_200mm():
    res = _run(MpiInf3dhpMetric(), [_sample('TS3', range(5), np.zeros(17))])
    assert res['pck'] == pytest.approx(100.0)
    # the MATLAB script's threshold 0 counts nothing: the best AUC is 30 / 31
    assert res['auc'] == pytest.approx(100 * 30 / 31)
    assert res['mpjpe'] == pytest.approx(0.0)
    res = _run(MpiInf3dhpMetric(), [_sample('TS3', range(5), _constant(200.0))])
    assert res['pck'] == 0.0 and res['auc'] == 0.0
    assert res['mpjpe'] == pytest.approx(200.0 * 16 / 17)


def test_sequences_scenes_and_overall_pool_frames():
    samples = [_sample('TS1', range(0, 10), _constant(100.0)),     # 10 frames, PCK 100
               _sample('TS2', range(10, 40), _constant(200.0)),    # 30 frames, PCK 0
               _sample('TS5', range(40, 60), np.zeros(17))]        # 20 frames, PCK 100
    res = _run(MpiInf3dhpMetric(metrics=['pck', 'mpjpe']), samples)
    assert res['pck/TS1'] == 100.0 and res['pck/TS2'] == 0.0 and res['pck/TS5'] == 100.0
    # pooled frames, not the mean of the sequences (which would be 50 and 66.7)
    assert res['pck/GS'] == pytest.approx(25.0)
    assert res['pck/Outdoor'] == pytest.approx(100.0)
    assert 'pck/noGS' not in res  # no sequence of that scene
    assert res['pck'] == pytest.approx(100 * 30 / 60)
    assert res['mpjpe/GS'] == pytest.approx((10 * 100 + 30 * 200) * 16 / 17 / 40)
    assert res['num_frames'] == 60
    assert 'auc' not in res
    res = _run(MpiInf3dhpMetric(per_sequence=False), samples)
    assert set(res) == {'pck', 'auc', 'mpjpe', 'num_frames'}


def test_invalid_frames_and_overlapping_windows():
    # frames 0-1 invalid with a 1 m error; windows [0..5] and [3..8] overlap on 3-5
    first = _sample('TS4', range(0, 6), _constant(100.0), valid=[0, 0, 1, 1, 1, 1])
    first['pred'][:2] += 1000.0
    second = _sample('TS4', range(3, 9), _constant(100.0), valid=[1] * 6)
    second['gt_mm'] = torch.cat([first['gt_mm'][3:], second['gt_mm'][3:]])
    second['pred'] = second['gt_mm'].clone()
    second['pred'][..., 0] += torch.as_tensor(_constant(100.0))
    res = _run(MpiInf3dhpMetric(), [first, second])
    assert res['num_frames'] == 7  # frames 2..8
    assert res['mpjpe'] == pytest.approx(100.0 * 16 / 17)
    assert res['pck'] == 100.0

    metric = MpiInf3dhpMetric()
    metric.process(None, [_sample('TS4', range(3), np.zeros(17), valid=[0, 0, 0])])
    with pytest.raises(ValueError, match='every frame is flagged invalid'):
        metric.compute_metrics(metric.results)
    with pytest.raises(ValueError, match='out of range'):
        _run(MpiInf3dhpMetric(pck_joints=[0, 20]), [_sample('TS1', range(2), np.zeros(17))])
