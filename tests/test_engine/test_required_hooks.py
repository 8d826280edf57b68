"""The hooks exact resume relies on are always registered by DualposeRunner, whatever a
config's ``custom_hooks`` or ``default_hooks`` say (docs/inference.md's TensorBoard snippet
sets ``custom_hooks`` and used to drop ``RandomStateHook`` silently)."""
import os.path as osp

import pytest

from dualpose.engine.runner import with_required_hooks
from tests.conftest import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')


def kinds(hooks):
    return [h['type'] if isinstance(h, dict) else type(h).__name__ for h in hooks]


def test_required_hooks_added_once_and_deduplicated_by_type():
    from dualpose.engine import RandomStateHook
    _, custom, changes = with_required_hooks(None, [dict(type='LiftingVisualizationHook')])
    assert kinds(custom) == ['LiftingVisualizationHook', 'RandomStateHook']
    assert changes == ['RandomStateHook added to custom_hooks (exact resume needs it)']
    _, custom, changes = with_required_hooks(
        {}, [RandomStateHook(), dict(type='RandomStateHook'), dict(type='UserHook')])
    assert kinds(custom) == ['RandomStateHook', 'UserHook'] and len(changes) == 1
    _, custom, changes = with_required_hooks({}, [dict(type=RandomStateHook)])
    assert len(custom) == 1 and changes == []


def test_sampler_seed_hook_cannot_be_switched_off():
    default, _, changes = with_required_hooks(dict(sampler_seed=None, logger=None), [])
    assert default == dict(sampler_seed=dict(type='DistSamplerSeedHook'), logger=None)
    assert any('sampler_seed=None ignored' in c for c in changes)


@pytest.mark.parametrize('custom_hooks', [[], [dict(type='LiftingVisualizationHook',
                                                    max_samples=1)]])
def test_runner_registers_them_whatever_the_config_says(tmp_path, custom_hooks):
    from dualpose.apis.setup_env import build_runner
    from dualpose.utils.config import read_config
    cfg = read_config(CONFIG, {'default_hooks.sampler_seed': None})
    cfg.custom_hooks = custom_hooks
    cfg.work_dir = str(tmp_path / 'work')
    runner = build_runner(cfg)
    registered = [type(h).__name__ for h in runner.hooks]
    assert registered.count('RandomStateHook') == 1
    assert registered.count('DistSamplerSeedHook') == 1
    assert all(kind in registered for kind in kinds(custom_hooks))
