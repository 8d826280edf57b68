"""Extending dualpose through configs: user classes registered from their own module and
reached with custom_imports, in every kind of component; clear errors for unknown types."""
import os.path as osp
import textwrap

import pytest
import torch

from tests.conftest import load_tool
from tests.test_tools.test_train_test import data_options, run_tool

USER_MODULE = '''
from mmengine.hooks import Hook

from dualpose.datasets import Human36mDataset
from dualpose.datasets.transforms import NormalizeScreen
from dualpose.evaluation.metrics import PoseLiftingMetric
from dualpose.models.backbones import DualStreamFormer
from dualpose.models.estimators import PoseLifter
from dualpose.models.heads import LiftingRegressionHead
from dualpose.models.layers import MeanFusion
from dualpose.models.losses import MPJPELoss
from dualpose.models.streams import TransformerStream
from dualpose.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

CALLS = set()


def _tracked(base, kind, method):
    def wrapped(self, *args, **kwargs):
        CALLS.add(kind)
        return getattr(base, method)(self, *args, **kwargs)
    return wrapped


def _define(name, base, kind, method, registry):
    cls = type(name, (base, ), {method: _tracked(base, kind, method)})
    registry.register_module(module=cls)
    return cls


UserStream = _define('UserStream', TransformerStream, 'stream', 'forward', MODELS)
UserFusion = _define('UserFusion', MeanFusion, 'fusion', 'forward', MODELS)
UserBackbone = _define('UserBackbone', DualStreamFormer, 'backbone', 'forward', MODELS)
UserHead = _define('UserHead', LiftingRegressionHead, 'head', 'forward', MODELS)
UserLoss = _define('UserLoss', MPJPELoss, 'loss', 'forward', MODELS)
UserLifter = _define('UserLifter', PoseLifter, 'estimator', 'loss', MODELS)
UserDataset = _define('UserDataset', Human36mDataset, 'dataset', 'get_data_info', DATASETS)
UserTransform = _define('UserTransform', NormalizeScreen, 'transform', 'transform', TRANSFORMS)
UserMetric = _define('UserMetric', PoseLiftingMetric, 'metric', 'compute_metrics', METRICS)
UserHook = _define('UserHook', Hook, 'hook', 'after_train_iter', HOOKS)
'''

KINDS = {'stream', 'fusion', 'backbone', 'head', 'loss', 'estimator', 'dataset', 'transform',
         'metric', 'hook'}


def write_config(tmp_path, module_name, data_root):
    cfg = f'''
    _base_ = ['{osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                         'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')}']
    custom_imports = dict(imports=['{module_name}'], allow_failed_imports=False)
    model = dict(
        type='UserLifter',
        backbone=dict(type='UserBackbone', arch=dict(embed_dims=16, depth=1),
                      transformer_stream=dict(type='UserStream'),
                      fusion=dict(type='UserFusion')),
        head=dict(type='UserHead', in_channels=16, hidden_dims=32,
                  loss=[dict(type='UserLoss')]))
    train_pipeline = [dict(type='UserTransform'), dict(type='PackLiftingInputs')]
    train_dataloader = dict(batch_size=16, dataset=dict(
        type='UserDataset', data_root='{data_root}', seq_len=9, pipeline=train_pipeline))
    test_dataloader = dict(batch_size=16, dataset=dict(
        type='UserDataset', data_root='{data_root}', seq_len=9))
    test_evaluator = dict(type='UserMetric')
    val_dataloader = None  # the user's dataset has no held-out part: no validation
    val_cfg = None
    val_evaluator = None
    default_hooks = dict(checkpoint=dict(save_best=None))
    custom_hooks = [dict(type='UserHook')]
    train_cfg = dict(max_epochs=1)
    '''
    path = tmp_path / 'user_config.py'
    path.write_text(textwrap.dedent(cfg))
    return str(path)


def test_every_component_kind_swappable_from_config(tmp_path, monkeypatch, tiny_h36m_file):
    from mmengine.runner import Runner

    from dualpose.utils.config import read_config
    module_name = 'user_components_for_test'
    (tmp_path / f'{module_name}.py').write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = read_config(write_config(tmp_path, module_name, osp.dirname(tiny_h36m_file)))
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    import importlib
    user = importlib.import_module(module_name)
    assert user.CALLS == KINDS, f'never ran: {KINDS - user.CALLS}'
    stream = runner.model.backbone.blocks[0].streams[0]
    assert type(stream).__name__ == 'UserStream'
    assert type(runner.model.backbone.blocks[0].fusion).__name__ == 'UserFusion'
    assert metrics['lift/mpjpe'] > 0


def test_example_project_trains_and_tests_with_the_tools(tmp_path, tiny_h36m_file):
    config = 'projects/example_project/configs/dualpose-tiny-tcn-stream_synthetic-27f.py'
    root = osp.dirname(tiny_h36m_file)
    opts = [*data_options(root),
            'train_dataloader.batch_size=16', 'model.backbone.arch.embed_dims=16',
            'model.backbone.arch.depth=1', 'model.head.in_channels=16',
            'train_cfg.max_epochs=1', 'default_hooks.logger.interval=5']
    work = tmp_path / 'work'
    res = run_tool('train.py', [config, '--work-dir', str(work), '--cfg-options', *opts],
                   tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'loss_bone_length:' in res.stdout + res.stderr  # the custom loss ran
    ckpt = torch.load(work / 'epoch_1.pth', map_location='cpu', weights_only=False)
    keys = ckpt['state_dict'].keys()
    # the swapped-in stream's own layers were trained (the GCN stream's are absent)
    assert any('temporal.mixer.convs.0.weight' in k for k in keys)
    assert not any('temporal.mixer.U.weight' in k for k in keys)
    res = run_tool('test.py', [config, str(work / 'epoch_1.pth'), '--work-dir', str(work),
                               '--cfg-options', *opts], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'lift/mpjpe:' in res.stdout + res.stderr


def test_unknown_type_names_registry_and_close_matches():
    from mmengine.registry import MODELS, TRANSFORMS
    with pytest.raises(KeyError) as err:
        MODELS.build(dict(type='DualStreamFormr'))
    msg = str(err.value)
    assert "'model' registry" in msg and 'DualStreamFormr' in msg
    assert 'Did you mean: DualStreamFormer' in msg and 'custom_imports' in msg
    with pytest.raises(KeyError, match="'transform' registry.*NormalizeScreen"):
        TRANSFORMS.build(dict(type='NormaliseScreen'))


def test_failed_custom_import_names_config_and_module(tmp_path):
    from dualpose.utils.config import read_config
    path = tmp_path / 'cfg.py'
    path.write_text("custom_imports = dict(imports=['no_such_module_xyz'], "
                    'allow_failed_imports=False)\n')
    with pytest.raises(ImportError, match="cfg.py: custom_imports could not import "
                                          "'no_such_module_xyz'"):
        read_config(str(path))


def test_print_config_and_browse_dataset(tmp_path, tiny_h36m_file, capsys):
    load_tool('tools/misc/print_config.py').main(
        ['projects/example_project/configs/dualpose-tiny-tcn-stream_synthetic-27f.py',
         '--cfg-options', 'model.backbone.arch.depth=3'])
    out = capsys.readouterr().out
    assert "type='TemporalConvStream'" in out and 'depth=3' in out
    out_dir = tmp_path / 'browse'
    load_tool('tools/misc/browse_dataset.py').main(
        ['configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py', '--num', '2',
         '--out-dir', str(out_dir), '--cfg-options',
         f'train_dataloader.dataset.data_root={osp.dirname(tiny_h36m_file)}',
         'train_dataloader.dataset.seq_len=9'])
    import cv2
    images = sorted(out_dir.glob('*.png'))
    assert len(images) == 2
    a, b = (cv2.imread(str(p)) for p in images)
    assert a.shape[0] > 100 and a.std() > 0
    assert a.shape != b.shape or (a != b).any()  # two different samples, two pictures
