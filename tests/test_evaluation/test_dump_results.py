import pickle

import numpy as np
import pytest
import torch

from dualpose.evaluation.metrics import DumpLiftingResults
from dualpose.registry import METRICS


def _clip(video, frames, pred, gt=None, factor=None, valid=None, width=1000.0):
    sample = dict(video_id=video, action='Walking', camera_name='54138969',
                  image_size=(width, 1002.0), frame_indices=np.asarray(frames),
                  root_index=0, pred=torch.as_tensor(pred, dtype=torch.float32))
    if gt is not None:
        sample['gt_mm'] = torch.as_tensor(gt, dtype=torch.float32)
    if factor is not None:
        sample['factor_2_5d'] = np.asarray(factor, dtype=np.float32)
    if valid is not None:
        sample['frame_valid'] = np.asarray(valid, dtype=bool)
    return sample


def test_dump_layout_per_video(tmp_path):
    rng = np.random.default_rng(0)
    pred = rng.normal(scale=0.1, size=(8, 3, 3))
    pred -= pred[:, :1]
    gt = rng.normal(scale=200.0, size=(8, 3, 3))
    factor = np.linspace(4.0, 5.0, 8)
    # two windows over frames 0-4 and 3-7; the second predicts frames 3, 4 with +0.01
    win_a = _clip('s_09_act_02_subact_01_ca_01', range(0, 5), pred[0:5], gt[0:5], factor[0:5],
                  valid=[1, 1, 1, 1, 1])
    shifted = pred[3:8].copy()
    shifted[:2, 1:] += 0.01
    win_b = _clip('s_09_act_02_subact_01_ca_01', range(3, 8), shifted, gt[3:8], factor[3:8],
                  valid=[1, 1, 0, 1, 1])
    only_2d = _clip('my_video', range(0, 4), pred[:4])  # a 2D-only dataset: no gt, no factor

    out = tmp_path / 'dump' / 'results.pkl'
    metric = METRICS.build(dict(type='DumpLiftingResults', out_file_path=str(out)))
    metric.dataset_meta = dict(joint_names=['pelvis', 'hip', 'knee'])
    metric.process(None, [win_b, only_2d])
    metric.process(None, [win_a])
    assert metric.evaluate(size=3) == {}
    with open(out, 'rb') as f:
        dump = pickle.load(f)
    assert dump['format'] == 'dualpose-lifting-results' and dump['version'] == 1
    assert dump['joint_names'] == ['pelvis', 'hip', 'knee']
    assert set(dump['videos']) == {'s_09_act_02_subact_01_ca_01', 'my_video'}

    video = dump['videos']['s_09_act_02_subact_01_ca_01']
    assert video['action'] == 'Walking' and video['camera_name'] == '54138969'
    assert video['image_size'] == (1000.0, 1002.0)
    np.testing.assert_array_equal(video['frame_indices'], np.arange(8))
    expected = pred.copy()
    expected[3:5, 1:] += 0.005  # the mean of the two windows
    np.testing.assert_allclose(video['pred'], expected, atol=1e-6)
    # millimetres: pred * (w / 2) * factor, root-relative
    np.testing.assert_allclose(video['pred_mm'], expected * 500 * factor[:, None, None],
                               rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(video['gt_mm'], gt - gt[:, :1], atol=1e-3)
    np.testing.assert_array_equal(video['valid'], [1, 1, 1, 1, 1, 0, 1, 1])
    assert video['pred'].dtype == np.float32 and video['frame_indices'].dtype == np.int64

    plain = dump['videos']['my_video']
    assert set(plain) == {'action', 'camera_name', 'image_size', 'frame_indices', 'pred'}

    with pytest.raises(ValueError, match=r"must be a .pkl file, got 'results.json'"):
        DumpLiftingResults(out_file_path='results.json')
