"""Pictures through the tools: ``tools/test.py --show-dir`` and validation/training pictures sent
to the vis backends during training (subprocesses, tiny model, tiny synthetic data)."""
import os
import os.path as osp

import cv2
import torch

from tests.conftest import REPO_ROOT
from tests.test_tools.test_train_test import CONFIG, run_tool, tiny_options

TINY_MODEL = {'model.backbone.arch.embed_dims': 16, 'model.backbone.arch.depth': 1,
              'model.head.in_channels': 16, 'model.head.hidden_dims': 32}


def pngs(folder):
    return sorted(osp.join(r, f) for r, _, fs in os.walk(folder) for f in fs
                  if f.endswith('.png'))


def test_show_dir_saves_pictures_of_a_sample_of_test_clips(tmp_path, tiny_h36m_file):
    from dualpose.apis import init_model
    model = init_model(osp.join(REPO_ROOT, CONFIG), cfg_options=TINY_MODEL)
    ckpt = tmp_path / 'untrained.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    show = tmp_path / 'show'
    data_root = osp.dirname(tiny_h36m_file)
    res = run_tool('test.py', [CONFIG, str(ckpt), '--work-dir', str(tmp_path / 'work'),
                               '--show-dir', str(show), '--show-max', '3', '--cfg-options',
                               *tiny_options(data_root, 1), 'test_dataloader.batch_size=2'],
                   tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    saved = pngs(show)
    assert len(saved) == 3, saved
    names = [osp.basename(p) for p in saved]
    assert all(n.startswith('test_00') and '_s_09_act_' in n for n in names), names
    img = cv2.imread(saved[0])
    assert img is not None and img.std() > 0
    res = run_tool('test.py', [CONFIG, str(ckpt), '--show-dir', str(show), '--show-max', '0'],
                   tmp_path)
    assert res.returncode != 0 and '--show-max must be >= 1, got 0' in res.stderr


def test_training_sends_validation_and_training_pictures_to_the_backends(tmp_path,
                                                                          tiny_h36m_file):
    config = tmp_path / 'with_pictures.py'
    config.write_text(
        f"_base_ = [{osp.join(REPO_ROOT, CONFIG)!r}]\n"
        "custom_hooks = [dict(type='LiftingVisualizationHook', max_samples=2, "
        "train_interval=3)]\n"
        "visualizer = dict(type='PoseLiftingVisualizer', name='visualizer', "
        "vis_backends=[dict(type='LocalVisBackend')])\n")
    work = tmp_path / 'work'
    res = run_tool('train.py', [str(config), '--work-dir', str(work), '--cfg-options',
                                *tiny_options(osp.dirname(tiny_h36m_file), 1)], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    names = [osp.basename(p) for p in pngs(work)]
    assert 'train_sample_3.png' in names, names
    # the tiny validation split is one batch: one validation picture, at the epoch's end
    val = [n for n in names if n.startswith('val_sample_')]
    assert len(val) == 1 and val[0].startswith('val_sample_0_'), names
