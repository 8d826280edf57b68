import os.path as osp

import pytest
import torch

from tests.conftest import REPO_ROOT

TINY_CONFIG = osp.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')
DEMO_CKPT = osp.join(REPO_ROOT, 'demo/checkpoints/dualpose-tiny_synthetic-27f.pth')
TRAJ_CONFIG = osp.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny-traj_synthetic-27f.py')
TRAJ_CKPT = osp.join(REPO_ROOT, 'demo/checkpoints/dualpose-tiny-traj_synthetic-27f.pth')
SMALL = {'model.backbone.arch.embed_dims': 16, 'model.backbone.arch.depth': 1,
         'model.backbone.arch.num_heads': 2, 'model.head.hidden_dims': 32}


@pytest.fixture(autouse=True)
def _onnx_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('DUALPOSE_ONNX_CACHE', str(tmp_path / 'onnx_cache'))


def small_model(config=TINY_CONFIG, seed=0, small=True, **options):
    """A small random lifter whose layer scales are 0.5 (not 1e-5), so that every branch
    changes the output and a wrong export cannot hide behind a near-identity block."""
    from dualpose.apis import init_model
    torch.manual_seed(seed)
    model = init_model(config, cfg_options={**(SMALL if small else {}), **options})
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(('.ls1', '.ls2')):
                p.fill_(0.5)
    return model


@pytest.fixture(scope='session')
def demo_onnx(tmp_path_factory):
    """The shipped checkpoint, with the fused attention kernel, exported once: (file, meta)."""
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from dualpose.apis import init_model
    from dualpose.deploy import export_onnx
    model = init_model(TINY_CONFIG, DEMO_CKPT,
                       cfg_options={'model.backbone.transformer_stream.attn_impl': 'fused'})
    path = str(tmp_path_factory.mktemp('onnx') / 'demo.onnx')
    return path, export_onnx(model, path, checkpoint=DEMO_CKPT)
