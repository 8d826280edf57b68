"""A training process killed with SIGKILL (mid-epoch, and while writing a checkpoint), then
resumed with ``--resume``, ends with weights identical to an uninterrupted run."""
import os.path as osp

import pytest
import torch

from tests.conftest import REPO_ROOT
from tests.test_tools.test_train_test import run_tool, tiny_options, weights

CONFIG = osp.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')


def write_config(path, kill=None):
    hooks = "[dict(type='RandomStateHook')"
    if kill:
        hooks += f", dict(type='KillAtIterHook', {kill})"
    path.write_text(f"_base_ = [{CONFIG!r}]\n"
                    "custom_imports = dict(imports=['tests.fault_hooks'], "
                    "allow_failed_imports=False)\n"
                    f"custom_hooks = {hooks}]\n")
    return str(path)


def options(data_root):
    # 124 training clips, batch 32: 4 iterations per epoch, 8 in all; a checkpoint every
    # 3 iterations (3, 6 and the last), so iteration checkpoints fall mid-epoch.
    # Stochastic depth and random flips make the run depend on every random state.
    return tiny_options(data_root, 2) + ['train_dataloader.batch_size=32',
        'default_hooks.checkpoint.by_epoch=False', 'default_hooks.checkpoint.interval=3',
        'default_hooks.checkpoint.max_keep_ckpts=-1', 'default_hooks.checkpoint.save_best=None',
        'model.backbone.drop_path_rate=0.2']


def last_weights(work):
    with open(work / 'last_checkpoint') as f:
        path = f.read().strip()
    assert path == 'iter_8.pth', path  # relative to the work dir
    return weights(work / path)


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory, tiny_h36m_file):
    tmp = tmp_path_factory.mktemp('crash')
    data_root = osp.dirname(tiny_h36m_file)
    work = tmp / 'full'
    res = run_tool('train.py', [write_config(tmp / 'plain.py'), '--work-dir', str(work),
                                '--deterministic', '--cfg-options', *options(data_root)], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp, data_root, last_weights(work)


@pytest.mark.parametrize('kill, resumed_from, position', [
    ('at_iter=7', 'iter_6.pth', 'epoch 2 at batch 2'),  # SIGKILL one iteration after iter_6
    ('at_iter=6, during_save=True', 'iter_3.pth', 'epoch 1 at batch 3'),  # half-way through
])                                                                       # writing iter_6
def test_killed_run_resumes_to_identical_weights(uninterrupted, kill, resumed_from, position):
    tmp, data_root, expected = uninterrupted
    work = tmp / ('killed_' + kill.split(',')[-1].strip().split('=')[0])
    args = ['--work-dir', str(work), '--deterministic', '--cfg-options', *options(data_root)]
    res = run_tool('train.py', [write_config(tmp / 'kill.py', kill), *args], tmp)
    assert res.returncode == -9, (res.returncode, res.stderr[-3000:])  # SIGKILL
    if 'during_save' in kill:  # never a partial file under the final name
        assert not (work / 'iter_6.pth').exists() and (work / 'iter_6.pth.part').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith(resumed_from)

    res = run_tool('train.py', [write_config(tmp / 'resume.py'), '--resume', *args], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    assert f'auto-resuming from {work / resumed_from}' in log
    assert f'resuming {position} of 4' in log
    got = last_weights(work)
    assert got.keys() == expected.keys()
    for k in expected:
        torch.testing.assert_close(got[k], expected[k], rtol=0, atol=0, msg=k)
