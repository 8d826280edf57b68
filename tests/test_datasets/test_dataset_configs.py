"""The configs of the VideoPose3D and MPI-INF-3DHP layouts build and run on tiny files."""
import os.path as osp

import pytest
import torch
from mmengine.dataset import pseudo_collate

from dualpose.utils.config import read_config
from dualpose.registry import DATASETS, METRICS, MODELS
from tests.layouts import mpi_test_data, mpi_train_data, write_mpi, write_vp3d

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'dualpose')
TINY_MODEL = dict(arch=dict(embed_dims=16, depth=1, num_heads=2))


def _dataset(cfg, key, data_root, seq_len):
    ds_cfg = cfg[key].dataset
    ds_cfg.update(data_root=str(data_root), seq_len=seq_len)
    if 'holdout' in ds_cfg:
        ds_cfg.holdout.fraction = 0.5
    return DATASETS.build(ds_cfg)


def _evaluate(cfg, dataset, key='test_evaluator'):
    """A tiny model of the config's family predicts the dataset; the evaluator scores it."""
    model_cfg = cfg.model
    model_cfg.backbone.update(TINY_MODEL)
    model_cfg.head.update(in_channels=16, hidden_dims=32)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).eval()
    metric = METRICS.build(cfg[key])
    metric.dataset_meta = dataset.metainfo
    with torch.no_grad():
        batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
        outputs = model.test_step(batch)
    metric.process(batch, [o.to_dict() for o in outputs])
    return metric.evaluate(len(dataset))


@pytest.mark.parametrize('name, file_2d', [
    ('dualpose-b_h36m-vp3d-cpn-243f.py', 'data_2d_h36m_cpn_ft_h36m_dbb.npz'),
    ('dualpose-b_h36m-vp3d-gt2d-243f.py', 'data_2d_h36m_gt.npz')])
def test_vp3d_configs(tmp_path, name, file_2d):
    cfg = read_config(osp.join(CONFIGS, 'h36m', name))
    assert cfg.test_dataloader.dataset.ann_file_2d == file_2d
    write_vp3d(tmp_path, subjects=('S1', 'S5', 'S6', 'S7', 'S8', 'S9', 'S11'), frames=12,
               name_2d=file_2d)
    train = _dataset(cfg, 'train_dataloader', tmp_path, 9)
    val = _dataset(cfg, 'val_dataloader', tmp_path, 9)
    test = _dataset(cfg, 'test_dataloader', tmp_path, 9)
    assert set(train.arrays['subject']) == {'S1', 'S5', 'S6', 'S7', 'S8'}
    assert set(test.arrays['subject']) == {'S9', 'S11'}
    assert not {train.sequence_key(v) for v in train.videos} & {
        val.sequence_key(v) for v in val.videos}
    res = _evaluate(cfg, test)
    assert res['lift/num_frames'] == 2 * 4 * (12 + 13 + 14)  # every video, no skip-list
    assert 0 < res['lift/mpjpe'] < 2000 and 'lift/mpjpe_joint/right_knee' in res
    assert {'lift/mpjpe/Walking', 'lift/mpjpe/Eating'} <= set(res)


def test_mpi_inf_3dhp_config(tmp_path):
    cfg = read_config(osp.join(CONFIGS, 'mpi_inf_3dhp', 'dualpose-b_mpi-inf-3dhp-81f.py'))
    assert cfg.model.backbone.num_joints == 17 and cfg.test_dataloader.dataset.seq_len == 81
    assert (14, 8) in [tuple(link) for link in cfg.model.backbone.skeleton_links]
    write_mpi(tmp_path / 'data_train_3dhp.npz', mpi_train_data(frames=30))
    write_mpi(tmp_path / 'data_test_3dhp.npz', mpi_test_data({'TS1': 20, 'TS2': 12, 'TS6': 16}))
    train = _dataset(cfg, 'train_dataloader', tmp_path, 9)
    val = _dataset(cfg, 'val_dataloader', tmp_path, 9)
    assert len(train.videos) == len(val.videos) == 2  # one sequence each, both cameras
    test = _dataset(cfg, 'test_dataloader', tmp_path, 9)
    assert test.metainfo['root_index'] == 14
    res = _evaluate(cfg, test)
    assert res['3dhp/num_frames'] == 17 + 9 + 13  # valid frames only
    assert 0 <= res['3dhp/pck'] <= 100 and 0 <= res['3dhp/auc'] <= res['3dhp/pck'] + 1e-9
    assert {'3dhp/pck/TS1', '3dhp/pck/GS', '3dhp/auc/Outdoor', '3dhp/mpjpe/TS6'} <= set(res)
    assert 'lift/mpjpe' in _evaluate(cfg, val, key='val_evaluator')
