"""tools/analysis/causal_study.py: the three arms trained and scored, the table and json, and the
resume (finished runs are skipped)."""
import json
import os.path as osp

import pytest

from tests.conftest import load_tool
from tests.test_tools.test_train_test import data_options


def test_causal_study_runs_every_arm_then_skips_them(tmp_path, tiny_h36m_file, capsys):
    study = load_tool('tools/analysis/causal_study.py')
    data_root = osp.dirname(tiny_h36m_file)
    out = tmp_path / 'causal.json'
    argv = ['--seeds', '0', '--budget', 'default', '--work-dir', str(tmp_path / 'work'), '--out', str(out),
            '--cfg-options', *data_options(data_root), 'model.backbone.arch.embed_dims=16',
            'model.backbone.arch.depth=1', 'train_cfg.max_epochs=1',
            'param_scheduler.0.end=1']
    result = study.main(argv)
    text = capsys.readouterr().out
    assert 'causal seed 0: MPJPE' in text and 'non-causal seed 0: MPJPE' in text
    assert 'causal-L3 seed 0: MPJPE' in text
    assert '| causal - non-causal (paired by seed) |' in text
    assert '| causal-L3 - non-causal (paired by seed) |' in text
    runs = {arm: result['arms'][arm]['runs'][0]['mpjpe'] for arm in result['arms']}
    assert result['paired_mpjpe_difference']['causal']['mean'] == \
        pytest.approx(runs['causal'] - runs['non-causal'])
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    for arm in ('causal', 'causal-L3', 'non-causal'):
        (run, ) = saved['arms'][arm]['runs']
        assert run['seed'] == 0 and 0 < run['mpjpe'] < 2000
    record = json.loads((tmp_path / 'work' / 'runs' / 'causal_s0.json').read_text())
    log = (tmp_path / 'work' / 'train' / 'causal_s0' / 'console.log').read_text()
    assert 'dualpose-tiny-causal_synthetic-27f.py' in record['spec']['config'] and 'Epoch' in log
    record = json.loads((tmp_path / 'work' / 'runs' / 'causal-L3_s0.json').read_text())
    assert record['spec']['config'].endswith('dualpose-tiny-causal-lookahead3_synthetic-27f.py')
    study.main(argv)
    assert 'causal seed 0: done before, skipped' in capsys.readouterr().out
