"""CRL pre-training -> fine-tuning -> test through the tools, on a tiny synthetic set."""
import os.path as osp

import pytest
import torch
from mmengine.runner import load_checkpoint

from dualpose.utils.config import read_config
from dualpose.registry import MODELS
from tests.test_tools.test_train_test import data_options, run_tool

PRETRAIN = 'configs/dualpose/synthetic/dualpose-tiny-crl-pretrain_synthetic-27f.py'
FINETUNE = 'configs/dualpose/synthetic/dualpose-tiny-crl-finetune_synthetic-27f.py'
TINY_BACKBONE = ['model.backbone.arch.embed_dims=16', 'model.backbone.arch.depth=2']


def pretrain_options(data_root, epochs):
    return [f'train_dataloader.dataset.data_root={data_root}',
            'train_dataloader.dataset.seq_len=9', 'train_dataloader.batch_size=16',
            *TINY_BACKBONE, 'model.target_generator.top_k=1', 'model.teacher.tau_iters=10',
            f'train_cfg.max_epochs={epochs}', 'default_hooks.logger.interval=5']


def finetune_options(data_root, ckpt):
    return [*data_options(data_root), 'train_dataloader.batch_size=16', *TINY_BACKBONE, 'model.head.in_channels=16',
            'model.head.hidden_dims=32', 'train_cfg.max_epochs=1',
            f'model.backbone.init_cfg.checkpoint={ckpt}']


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory, tiny_h36m_file):
    tmp = tmp_path_factory.mktemp('crl')
    data_root = osp.dirname(tiny_h36m_file)
    work = tmp / 'pretrain'
    res = run_tool('train.py', [PRETRAIN, '--work-dir', str(work), '--cfg-options',
                                *pretrain_options(data_root, 1)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    for key in ('loss_crl:', 'tau:', 'mask_ratio:', 'target_std:', 'pred_std:'):
        assert key in log
    return tmp, data_root, work


def test_teacher_saved_and_restored_and_schedule_resumes(pretrained):
    tmp, data_root, work = pretrained
    ckpt = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    sd = ckpt['state_dict']
    steps_1 = int(sd['teacher.steps'])
    assert steps_1 > 1
    # the teacher is an EMA: it lags behind the student
    assert not torch.equal(sd['teacher.module.embed.weight'], sd['backbone.embed.weight'])
    cfg = read_config(PRETRAIN)
    cfg.merge_from_dict(dict(model=dict(backbone=dict(arch=dict(embed_dims=16, depth=2)),
                                        target_generator=dict(top_k=1))))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(work / 'epoch_1.pth'), map_location='cpu')
    for k, v in model.teacher.state_dict().items():
        torch.testing.assert_close(v, sd['teacher.' + k], rtol=0, atol=0)
    # resume: the EMA schedule continues where it stopped (steps are not reset)
    res = run_tool('train.py', [PRETRAIN, '--work-dir', str(work), '--resume', '--cfg-options',
                                *pretrain_options(data_root, 2)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    sd2 = torch.load(work / 'epoch_2.pth', map_location='cpu', weights_only=False)['state_dict']
    assert int(sd2['teacher.steps']) == 2 * steps_1


def test_finetune_loads_pretrained_student_and_tests(pretrained):
    tmp, data_root, work = pretrained
    ckpt = str(work / 'epoch_1.pth')
    # hand-off: the fine-tune model's backbone starts as the pre-trained student
    cfg = read_config(FINETUNE)
    cfg.merge_from_dict(dict(model=dict(
        backbone=dict(arch=dict(embed_dims=16, depth=2), init_cfg=dict(checkpoint=ckpt)),
        head=dict(in_channels=16, hidden_dims=32))))
    model = MODELS.build(cfg.model)
    model.init_weights()
    sd = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    for k, v in model.backbone.state_dict().items():
        torch.testing.assert_close(v, sd['backbone.' + k], rtol=0, atol=0)
    # and through the tools: fine-tune, then test the fine-tuned checkpoint
    ft = tmp / 'finetune'
    res = run_tool('train.py', [FINETUNE, '--work-dir', str(ft), '--cfg-options',
                                *finetune_options(data_root, ckpt)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    res = run_tool('test.py', [FINETUNE, str(ft / 'epoch_1.pth'), '--work-dir', str(ft),
                               '--cfg-options', *finetune_options(data_root, ckpt)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'lift/mpjpe:' in res.stdout + res.stderr


def test_pretrain_without_data_points_to_synthetic_config(tmp_path):
    res = run_tool('train.py', ['configs/dualpose_pretrain.py', '--work-dir',
                                str(tmp_path / 'w'), '--cfg-options',
                                f'train_dataloader.dataset.data_root={tmp_path}/none'], tmp_path)
    assert res.returncode == 1
    assert 'docs/datasets.md' in res.stderr
    assert 'dualpose-tiny-crl-pretrain_synthetic-27f.py' in res.stderr
    assert not (tmp_path / 'w').exists()


def test_target_statistics_of_a_pretrained_checkpoint(pretrained, tmp_path):
    """tools/analysis/crl_targets.py on the checkpoint: shares are fractions, the student's
    error and the per-position baseline are computed on the masked tokens; clips that are all
    the same have targets that are all position (share 1, the baseline exact)."""
    from tests.conftest import load_tool
    tool = load_tool('tools/analysis/crl_targets.py')
    _, data_root, work = pretrained
    opts = [o for o in pretrain_options(data_root, 1) if 'logger' not in o]
    stats = tool.main([PRETRAIN, str(work / 'epoch_1.pth'), '--clips', '12', '--json',
                       str(tmp_path / 's.json'), '--cfg-options', *opts])
    assert stats['clips'] == 12 and stats['masked_tokens'] > 0
    assert 0.0 <= stats['position_share'] <= 1.0 and stats['variance'] > 0
    assert stats['student_mse'] > 0 and stats['position_mse'] > 0
    assert (tmp_path / 's.json').exists()
    cfg = read_config(PRETRAIN)
    cfg.merge_from_dict(dict(model=dict(backbone=dict(arch=dict(embed_dims=16, depth=2)),
                                        target_generator=dict(top_k=1))))
    model = MODELS.build(cfg.model)
    same = torch.randn(1, 9, 17, 3).repeat(4, 1, 1, 1)
    same[..., 2] = 1.0
    s = tool.target_statistics(model, same)
    assert s['position_share'] == pytest.approx(1.0, abs=1e-5)
    assert s['position_mse'] == pytest.approx(0.0, abs=1e-8)
    with pytest.raises(ValueError, match='at least 2 clips'):
        tool.target_statistics(model, same[:1])
