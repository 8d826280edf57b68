import os.path as osp

import numpy as np
import pytest
import torch
from mmengine import Config

from dualpose.datasets import MpiInf3dhpDataset
from dualpose.evaluation.metrics import MpiInf3dhpMetric
from tests.layouts import mpi_test_data, mpi_train_data, write_mpi

PIPELINE = [dict(type='NormalizeScreen'), dict(type='PackLiftingInputs')]
MPI_CFG = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets',
                   'mpi_inf_3dhp.py')


@pytest.fixture
def mpi_info():
    return dict(Config.fromfile(MPI_CFG).dataset_info)


def build(path, info, split='test', seq_len=8, **kwargs):
    return MpiInf3dhpDataset(ann_file=path, split=split, seq_len=seq_len, metainfo=info,
                             pipeline=PIPELINE, **kwargs)


def test_test_layout_sizes_root_and_valid_flags(tmp_path, mpi_info):
    data = mpi_test_data({'TS1': 30, 'TS5': 24})
    ds = build(write_mpi(tmp_path / 'data_test_3dhp.npz', data), mpi_info)
    # 30 frames: windows 0, 8, 16, 22; 24 frames: 0, 8, 16
    assert len(ds) == 4 + 3
    first = ds[0]['data_samples']
    assert first.video_id == 'TS1' and first.action == 'TS1'
    assert first.image_size == (2048.0, 2048.0)
    np.testing.assert_array_equal(first.frame_valid, [0, 0, 0, 1, 1, 1, 1, 1])
    # root 14 (pelvis) at the origin, millimetres kept, normalised by the width
    gt = data['TS1']['data_3d'][:8].astype(np.float64)
    np.testing.assert_allclose(first.gt_mm.numpy(), gt - gt[:, 14:15], atol=1e-3)
    np.testing.assert_allclose(first.gt_target.numpy(), (gt - gt[:, 14:15]) / 1024, atol=1e-5)
    last = ds[len(ds) - 1]
    assert last['data_samples'].image_size == (1920.0, 1080.0)
    uv = data['TS5']['data_2d'][16:24]
    np.testing.assert_allclose(last['inputs'][..., 1].numpy(), uv[..., 1] / 1920 * 2 - 1080 / 1920,
                               atol=1e-5)
    assert torch.all(last['inputs'][..., 2] == 1)


def test_end_to_end_perfect_prediction_and_invalid_frames(tmp_path, mpi_info):
    data = mpi_test_data({'TS1': 30, 'TS5': 24})
    ds = build(write_mpi(tmp_path / 'data_test_3dhp.npz', data), mpi_info)
    metric = MpiInf3dhpMetric()
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        pred = sample.gt_target.clone()
        pred[~torch.as_tensor(sample.frame_valid)] += 1.0  # ~1 m off on invalid frames only
        sample.pred = pred
        metric.process(None, [sample.to_dict()])
    res = metric.compute_metrics(metric.results)
    assert res['num_frames'] == 27 + 21  # the 3 invalid frames of each sequence not scored
    assert res['pck'] == pytest.approx(100.0)
    assert res['auc'] == pytest.approx(100.0 * 30 / 31, abs=1e-6)
    assert res['mpjpe'] == pytest.approx(0.0, abs=1e-2)
    assert res['pck/TS5'] == pytest.approx(100.0) and res['pck/Outdoor'] == pytest.approx(100.0)


def test_train_layout_one_video_per_camera(tmp_path, mpi_info):
    path = write_mpi(tmp_path / 'data_train_3dhp.npz', mpi_train_data(frames=30))
    ds = build(path, mpi_info, split='train', seq_len=9)  # stride 3
    assert [str(ds.arrays['source'][v[0]]) for v in ds.videos] == [
        'S1 Seq1 cam0', 'S1 Seq1 cam2', 'S2 Seq2 cam0', 'S2 Seq2 cam2']
    assert len(ds) == 4 * 8
    assert bool(np.all(ds.arrays['valid']))
    assert ds[0]['data_samples'].image_size == (2048.0, 2048.0)
    only = build(path, mpi_info, split='train', seq_len=9, sequences=['S2 Seq2'])
    assert len(only.videos) == 2
    # holding out a sequence keeps both its cameras out of training
    val = build(path, mpi_info, split='train', seq_len=9,
                holdout=dict(fraction=0.5, part='val'))
    assert len(val.videos) == 2 and len({ds.sequence_key(v) for v in val.videos}) == 1


def test_bad_inputs(tmp_path, mpi_info):
    test_path = write_mpi(tmp_path / 'data_test_3dhp.npz', mpi_test_data())
    train_path = write_mpi(tmp_path / 'data_train_3dhp.npz', mpi_train_data())
    with pytest.raises(ValueError, match=r"data_test_3dhp.npz.*not a training record.*"
                       r"split='test'"):
        build(test_path, mpi_info, split='train')
    with pytest.raises(ValueError, match=r"data_train_3dhp.npz.*not a test-sequence record.*"
                       r"split='train'"):
        build(train_path, mpi_info, split='test')
    with pytest.raises(KeyError, match=r"no sequences \['TS3'\]"):
        build(test_path, mpi_info, sequences=['TS3'])

    data = mpi_test_data()
    data['TS5']['data_2d'] = data['TS5']['data_2d'][:-1]
    with pytest.raises(ValueError, match=r"data\['TS5'\]\['data_2d'\] has 23 frames but "
                       r"data\['TS5'\]\['data_3d'\] has 24"):
        build(write_mpi(tmp_path / 'frames.npz', data), mpi_info)

    data = mpi_test_data()
    data['TS1']['data_3d'] = data['TS1']['data_3d'][:, :16]
    with pytest.raises(ValueError, match=r"data\['TS1'\]\['data_3d'\] has shape \(30, 16, 3\), "
                       r"expected \(N, 17, 3\)"):
        build(write_mpi(tmp_path / 'joints.npz', data), mpi_info)

    data = mpi_test_data()
    data['TS1']['valid'] = data['TS1']['valid'][:10]
    with pytest.raises(ValueError, match=r"data\['TS1'\]\['valid'\] has shape \(10,\), "
                       r"expected \(30,\)"):
        build(write_mpi(tmp_path / 'valid.npz', data), mpi_info)

    data = mpi_test_data()
    del data['TS1']['valid']
    with pytest.raises(KeyError, match=r"data\['TS1'\] lacks keys \['valid'\]"):
        build(write_mpi(tmp_path / 'novalid.npz', data), mpi_info)

    data = mpi_test_data()
    data['TS1']['data_3d'] = data['TS1']['data_3d'] / 1000.0
    with pytest.raises(ValueError, match="looks like metres"):
        build(write_mpi(tmp_path / 'metres.npz', data), mpi_info)

    np.savez(tmp_path / 'nodata.npz', poses=np.zeros(3))
    with pytest.raises(KeyError, match=r"nodata.npz.*lacks key 'data'.*\['poses'\]"):
        build(str(tmp_path / 'nodata.npz'), mpi_info)
    with pytest.raises(FileNotFoundError, match=r"missing.npz.*MPI-INF-3DHP"):
        build(str(tmp_path / 'missing.npz'), mpi_info)
