"""Human3.6M, MotionBERT pickle layout: the protocol end to end on a pickle built key by key.

Ground-truth-2D mode, the S9 skip-list and per-action averaging, through the dataset and the
metric, on a case where the frame mean and the action mean differ.
"""
import pickle

import numpy as np
import pytest
import torch

from dualpose.datasets import Human36mDataset
from dualpose.evaluation.metrics import PoseLiftingMetric

PIPELINE = [dict(type='NormalizeScreen'), dict(type='PackLiftingInputs')]
WIDTH, FACTOR = 1000, 4.0
# video id, action, frames, error (mm) of joint 1 in the prediction
VIDEOS = [('s_09_act_05_subact_02_ca_01', 'Greeting', 12, 1000.0),  # on the skip-list
          ('s_09_act_02_subact_01_ca_01', 'Directions', 10, 20.0),
          ('s_11_act_14_subact_01_ca_02', 'Walking', 30, 40.0)]


def write_motionbert_pickle(path, videos=VIDEOS, seed=0):
    rng = np.random.default_rng(seed)
    n = sum(v[2] for v in videos)
    img = np.concatenate([rng.uniform(200, 800, (v[2], 17, 3)) for v in videos])
    img[..., 2] -= img[:, :1, 2]  # depth relative to the root, pixel-scaled
    img = img.astype(np.float32)
    factor = np.full(n, FACTOR, dtype=np.float32)
    cams = {'ca_01': '54138969', 'ca_02': '55011271'}

    def per_frame(values):
        out = np.empty(n, dtype=object)
        out[:] = np.concatenate([[value] * v[2] for value, v in zip(values, videos)])
        return out

    test = {
        'joint_2d': (img[..., :2] + rng.normal(scale=3.0, size=(n, 17, 2))).astype(np.float32),
        'confidence': rng.uniform(0.3, 1.0, (n, 17)).astype(np.float32),
        'joint3d_image': img,
        'camera_name': per_frame([cams[v[0][-5:]] for v in videos]),
        'source': per_frame([v[0] for v in videos]),
        'action': per_frame([v[1] for v in videos]),
        '2.5d_factor': factor,
        'joints_2.5d_image': img * factor[:, None, None],
    }
    with open(path, 'wb') as f:
        pickle.dump({'train': dict(test), 'test': test}, f)
    return str(path)


def _score(ds, skip_videos):
    metric = PoseLiftingMetric(metrics=['mpjpe'], skip_videos=skip_videos)
    errors = {v[0]: v[3] for v in VIDEOS}
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        pred = sample.gt_target.clone()
        # joint 1 off by the video's error along x: mm / factor / (w / 2) in normalised units
        pred[:, 1, 0] += errors[sample.video_id] / FACTOR / (WIDTH / 2)
        sample.pred = pred
        metric.process(None, [sample.to_dict()])
    return metric.compute_metrics(metric.results)


def test_skip_list_and_action_averaging_end_to_end(tmp_path, h36m_info):
    path = write_motionbert_pickle(tmp_path / 'h36m_sh_conf_cam_source_final.pkl')
    ds = Human36mDataset(ann_file=path, split='test', seq_len=5, metainfo=h36m_info,
                         pipeline=PIPELINE)
    res = _score(ds, h36m_info['skip_videos'])
    assert res['num_frames'] == 10 + 30  # the S9 skip-list video is not scored
    assert res['mpjpe/Directions'] == pytest.approx(20 / 17, abs=1e-3)
    assert res['mpjpe/Walking'] == pytest.approx(40 / 17, abs=1e-3)
    # mean over actions (30/17), not over frames ((10 * 20 + 30 * 40) / 40 / 17 = 35/17)
    assert res['mpjpe'] == pytest.approx(30 / 17, abs=1e-3)
    assert 'mpjpe/Greeting' not in res

    everything = _score(ds, None)
    assert everything['num_frames'] == 52
    assert everything['mpjpe'] == pytest.approx((1000 + 20 + 40) / 3 / 17, abs=1e-2)


def test_ground_truth_2d_is_the_projection_of_the_label(tmp_path, h36m_info):
    path = write_motionbert_pickle(tmp_path / 'h36m.pkl')
    detected = Human36mDataset(ann_file=path, split='test', seq_len=5, metainfo=h36m_info,
                               pipeline=PIPELINE)
    gt2d = Human36mDataset(ann_file=path, split='test', seq_len=5, metainfo=h36m_info,
                           pipeline=PIPELINE, use_gt_2d=True)
    with open(path, 'rb') as f:
        img = pickle.load(f)['test']['joint3d_image']
    sample = gt2d[0]
    frames = sample['data_samples'].frame_indices
    x = img[frames, :, 0] / WIDTH * 2 - 1
    y = img[frames, :, 1] / WIDTH * 2 - 1002 / WIDTH  # camera 54138969: 1000 x 1002
    np.testing.assert_allclose(sample['inputs'][..., 0].numpy(), x, atol=1e-6)
    np.testing.assert_allclose(sample['inputs'][..., 1].numpy(), y, atol=1e-6)
    assert torch.all(sample['inputs'][..., 2] == 1)
    # the detected mode keeps the detections and their confidences
    assert not torch.allclose(detected[0]['inputs'], sample['inputs'])
    assert detected[0]['inputs'][..., 2].min() < 1
