"""End to end through the tools a user runs: train, resume, test, dump, and a clear failure on
missing data. Runs as subprocesses on a tiny synthetic set and a tiny model."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO_ROOT

CONFIG = 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py'


def data_options(data_root):
    """Train, validation and test splits of the tiny synthetic set, T=9."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        'train_dataloader.dataset.seq_len=9', 'test_dataloader.dataset.seq_len=9',
        'val_dataloader.dataset.seq_len=9', 'val_dataloader.dataset.stride=9',
        # the tiny set has 4 recordings per split: hold one out for validation
        'train_dataloader.dataset.holdout.fraction=0.25',
        'val_dataloader.dataset.holdout.fraction=0.25',
    ]


def tiny_options(data_root, epochs):
    return [
        *data_options(data_root),
        'train_dataloader.batch_size=16', 'test_dataloader.batch_size=16',
        'model.backbone.arch.embed_dims=16', 'model.backbone.arch.depth=1',
        'model.head.in_channels=16', 'model.head.hidden_dims=32',
        f'train_cfg.max_epochs={epochs}', 'default_hooks.logger.interval=5',
    ]


def run_tool(tool, args, tmp_path):
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / 'mpl'), OMP_NUM_THREADS='1',
               PYTHONPATH=REPO_ROOT)
    return subprocess.run([sys.executable, osp.join(REPO_ROOT, 'tools', tool), *args],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)


def weights(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_h36m_file):
    tmp = tmp_path_factory.mktemp('e2e')
    data_root = osp.dirname(tiny_h36m_file)
    work = tmp / 'full'
    res = run_tool('train.py', [CONFIG, '--work-dir', str(work), '--cfg-options',
                                *tiny_options(data_root, 2)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp, data_root, work


def test_train_writes_checkpoints(trained):
    _, _, work = trained
    assert (work / 'epoch_2.pth').is_file()
    with open(work / 'last_checkpoint') as f:
        assert f.read().strip().endswith('epoch_2.pth')


def test_test_scores_and_dumps(trained):
    tmp, data_root, work = trained
    dump = work / 'preds.pkl'
    res = run_tool('test.py', [CONFIG, str(work / 'epoch_2.pth'), '--work-dir', str(work),
                               '--dump', str(dump), '--cfg-options',
                               *tiny_options(data_root, 2)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout + res.stderr
    assert 'lift/mpjpe:' in out and 'Locomotion' in out and 'UpperBody' in out
    mpjpe = float(out.split('lift/mpjpe:')[1].split()[0])
    assert 0 < mpjpe < 1000
    with open(dump, 'rb') as f:
        dumped = pickle.load(f)
    # per video, each frame once; millimetres next to the normalised prediction
    assert dumped['format'] == 'dualpose-lifting-results' and len(dumped['videos']) > 0
    video = next(iter(dumped['videos'].values()))
    num_frames = len(video['frame_indices'])
    assert num_frames >= 9 and video['pred'].shape == video['pred_mm'].shape == (num_frames, 17, 3)
    assert video['gt_mm'].shape == (num_frames, 17, 3)


def test_resume_matches_uninterrupted_run(trained):
    tmp, data_root, work = trained
    part = tmp / 'part'
    res = run_tool('train.py', [CONFIG, '--work-dir', str(part), '--cfg-options',
                                *tiny_options(data_root, 1)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    res = run_tool('train.py', [CONFIG, '--work-dir', str(part), '--resume', '--cfg-options',
                                *tiny_options(data_root, 2)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'resumed epoch: 1' in (res.stdout + res.stderr)
    a, b = weights(work / 'epoch_2.pth'), weights(part / 'epoch_2.pth')
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def test_missing_data_fails_clearly_and_writes_nothing(tmp_path):
    work = tmp_path / 'work'
    res = run_tool('train.py', [CONFIG, '--work-dir', str(work), '--cfg-options',
                                f'train_dataloader.dataset.data_root={tmp_path}/absent'],
                   tmp_path)
    assert res.returncode != 0
    assert 'absent/h36m_sh_conf_cam_source_final.pkl' in res.stderr
    assert 'make_synthetic_h36m.py' in res.stderr
    assert not work.exists()
