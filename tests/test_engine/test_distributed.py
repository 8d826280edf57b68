"""Multi-process (gloo, CPU) training and testing through tools/dist_train.sh and
tools/dist_test.sh give what one process gives."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO_ROOT
from tests.test_tools.test_train_test import CONFIG, run_tool, tiny_options, weights


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def run_dist(script, args, tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port(), OMP_NUM_THREADS='1',
               MPLCONFIGDIR=str(tmp_path / 'mpl'), PYTHONPATH=REPO_ROOT)
    return subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', script), *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=900)


def metric(out, key='lift/mpjpe'):
    return float(out.split(f'{key}:')[1].split()[0])


@pytest.fixture(scope='module')
def runs(tmp_path_factory, tiny_h36m_file):
    tmp = tmp_path_factory.mktemp('dist')
    data_root = osp.dirname(tiny_h36m_file)
    # 124 training clips (even, so the sampler adds no padding): 1 process x batch 16 and
    # 2 processes x batch 8 see the same global batches (shuffled, randomly flipped)
    opts = tiny_options(data_root, 1)
    one = tmp / 'one'
    res = run_tool('train.py', [CONFIG, '--work-dir', str(one), '--deterministic',
                                '--cfg-options', *opts], tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    two = tmp / 'two'
    res = run_dist('dist_train.sh', [CONFIG, '2', '--work-dir', str(two), '--deterministic',
                                     '--cfg-options', *opts, 'train_dataloader.batch_size=8'],
                   tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp, data_root, one, two


def test_two_processes_train_the_same_weights_as_one(runs):
    _, _, one, two = runs
    a, b = weights(one / 'epoch_1.pth'), weights(two / 'epoch_1.pth')
    assert a.keys() == b.keys()
    # head.fc.bias adds the same offset to every joint, which the root-relative output
    # cancels: its gradient is zero up to rounding, and Adam turns that rounding noise into
    # steps of up to lr, differently in the two runs. It has no effect on any prediction.
    diffs = {k: (a[k].float() - b[k].float()).abs().max().item() for k in a}
    free = diffs.pop('head.fc.bias')
    worst = max(diffs, key=diffs.get)
    print(f'max |w(1 process) - w(2 processes)| = {diffs[worst]:.3g} ({worst}); '
          f'head.fc.bias {free:.3g}')
    assert diffs[worst] < 1e-3

    from dualpose.utils.config import read_config

    from dualpose.registry import MODELS
    cfg = read_config(osp.join(REPO_ROOT, CONFIG))
    cfg.merge_from_dict({'model.backbone.arch.embed_dims': 16, 'model.backbone.arch.depth': 1,
                         'model.head.in_channels': 16, 'model.head.hidden_dims': 32})
    outputs = []
    x = torch.randn(2, 9, 17, 3, generator=torch.Generator().manual_seed(0))
    for state in (a, b):
        model = MODELS.build(cfg.model).eval()
        model.load_state_dict(state)
        with torch.no_grad():
            outputs.append(model.predict_coords(x))
    out_diff = (outputs[0] - outputs[1]).abs().max().item()
    print(f'max |prediction(1 process) - prediction(2 processes)| = {out_diff:.3g}')
    assert out_diff < 1e-3


def test_distributed_test_scores_every_frame_once(runs):
    """3 processes over 40 test clips: the sampler pads to 42; the padding is not scored."""
    tmp, data_root, one, _ = runs
    opts = [*tiny_options(data_root, 1), 'test_dataloader.dataset.stride=7',
            'test_dataloader.batch_size=4']
    ckpt = str(one / 'epoch_1.pth')
    single = run_tool('test.py', [CONFIG, ckpt, '--work-dir', str(tmp / 't1'),
                                  '--cfg-options', *opts], tmp)
    assert single.returncode == 0, single.stderr[-3000:]
    multi = run_dist('dist_test.sh', [CONFIG, ckpt, '3', '--work-dir', str(tmp / 't3'),
                                      '--cfg-options', *opts], tmp)
    assert multi.returncode == 0, multi.stderr[-3000:]
    out1, out3 = single.stdout + single.stderr, multi.stdout + multi.stderr
    assert metric(out3, 'lift/num_frames') == metric(out1, 'lift/num_frames')
    for key in ('lift/mpjpe', 'lift/p_mpjpe', 'lift/mpjve'):
        assert metric(out3, key) == pytest.approx(metric(out1, key), rel=1e-6), key
