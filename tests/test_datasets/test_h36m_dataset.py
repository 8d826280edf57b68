import pickle

import numpy as np
import pytest
import torch

from dualpose.datasets import Human36mDataset
from dualpose.datasets.datasets.base import clip_starts, group_videos
from dualpose.evaluation.metrics import PoseLiftingMetric

TEST_PIPELINE = [dict(type='NormalizeScreen'), dict(type='PackLiftingInputs')]


def make_dataset(path, info, split='test', seq_len=9, **kwargs):
    return Human36mDataset(ann_file=path, split=split, seq_len=seq_len, metainfo=info,
                           pipeline=TEST_PIPELINE, **kwargs)


def test_clip_starts_cover_every_frame():
    assert clip_starts(10, 4, 4) == [0, 4, 6]
    assert clip_starts(12, 4, 4) == [0, 4, 8]
    assert clip_starts(4, 4, 4) == [0]
    for length, t, s in [(30, 9, 3), (41, 9, 9), (100, 27, 9)]:
        covered = np.zeros(length, int)
        for st in clip_starts(length, t, s):
            covered[st:st + t] += 1
        assert covered.min() >= 1


def test_group_videos_keeps_order_and_time():
    src = np.array(['b', 'b', 'a', 'a', 'a', 'c'], dtype=object)
    groups = group_videos(src)
    assert [g.tolist() for g in groups] == [[0, 1], [2, 3, 4], [5]]


def test_train_clips_and_sample_content(tiny_h36m_file, h36m_info):
    ds = make_dataset(tiny_h36m_file, h36m_info, split='train', seq_len=9)
    assert ds.stride == 3
    sample = ds[0]
    assert sample['inputs'].shape == (9, 17, 3)
    ds_meta = sample['data_samples'].metainfo
    assert ds_meta['image_size'] in [(1000, 1000), (1000, 1002)]
    target = sample['data_samples'].gt_target
    assert target.shape == (9, 17, 3)
    assert torch.all(target[:, 0] == 0)  # root-relative
    # inputs are normalised: x in about [-1, 1], confidence in (0, 1]
    assert sample['inputs'][..., 0].abs().max() <= 1.0
    assert 0 < sample['inputs'][..., 2].min() and sample['inputs'][..., 2].max() <= 1


def test_every_test_frame_scored_exactly_once(tiny_h36m_file, h36m_info):
    """Perfect predictions through the metric: every frame counted once, zero error."""
    ds = make_dataset(tiny_h36m_file, h36m_info, split='test', seq_len=9)
    with open(tiny_h36m_file, 'rb') as f:
        n_frames = len(pickle.load(f)['test']['source'])
    per_frame = np.zeros(n_frames, int)
    metric = PoseLiftingMetric()
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        per_frame[s.frame_indices] += 1
        s.pred = s.gt_target.clone()
        metric.process({}, [s.to_dict()])
    assert per_frame.min() >= 1 and per_frame.max() == 2  # tail windows overlap
    res = metric.compute_metrics(metric.results)
    assert res['num_frames'] == n_frames
    assert res['mpjpe'] < 1e-3 and res['p_mpjpe'] < 1e-3 and res['mpjve'] < 1e-3


def test_gt_2d_mode(tiny_h36m_file, h36m_info):
    ds = make_dataset(tiny_h36m_file, h36m_info, use_gt_2d=True)
    sample = ds[0]
    assert torch.all(sample['inputs'][..., 2] == 1)


def _write(tmp_path, data):
    path = tmp_path / 'bad.pkl'
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


def _load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def test_missing_file_names_path_and_hint(tmp_path, h36m_info):
    with pytest.raises(FileNotFoundError, match='nope.pkl.*make_synthetic_h36m'):
        make_dataset(str(tmp_path / 'nope.pkl'), h36m_info)


def test_truncated_pickle(tmp_path, tiny_h36m_file, h36m_info):
    path = tmp_path / 'trunc.pkl'
    path.write_bytes(open(tiny_h36m_file, 'rb').read()[:1000])
    with pytest.raises(ValueError, match='trunc.pkl.*truncated'):
        make_dataset(str(path), h36m_info)


def test_missing_key(tmp_path, tiny_h36m_file, h36m_info):
    data = _load(tiny_h36m_file)
    del data['test']['2.5d_factor']
    with pytest.raises(KeyError, match=r"lacks keys \['2.5d_factor'\]"):
        make_dataset(_write(tmp_path, data), h36m_info)
    with pytest.raises(KeyError, match="key 'train'"):
        make_dataset(_write(tmp_path, {'test': data['test']}), h36m_info, split='train')


def test_wrong_joint_count(tmp_path, tiny_h36m_file, h36m_info):
    data = _load(tiny_h36m_file)
    data['test']['joint_2d'] = data['test']['joint_2d'][:, :16]
    with pytest.raises(ValueError, match=r"'test/joint_2d' has shape \(\d+, 16, 2\), expected"):
        make_dataset(_write(tmp_path, data), h36m_info)


def test_nan_coordinates(tmp_path, tiny_h36m_file, h36m_info):
    data = _load(tiny_h36m_file)
    data['test']['joint_2d'][5, 3, 0] = np.nan
    data['test']['joint3d_image'][7, 1, 2] = np.inf
    with pytest.raises(ValueError, match=r"'test/joint_2d' holds NaN.*frame 5"):
        make_dataset(_write(tmp_path, data), h36m_info)


def test_seq_len_longer_than_video(tiny_h36m_file, h36m_info):
    with pytest.raises(ValueError, match=r'has \d+ frames, shorter than seq_len=500'):
        make_dataset(tiny_h36m_file, h36m_info, seq_len=500)


def test_unknown_camera(tmp_path, tiny_h36m_file, h36m_info):
    data = _load(tiny_h36m_file)
    data['test']['camera_name'] = np.array(['cam_x'] * len(data['test']['source']), dtype=object)
    with pytest.raises(KeyError, match='cam_x'):
        make_dataset(_write(tmp_path, data), h36m_info)
