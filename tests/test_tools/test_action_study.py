"""tools/analysis/action_study.py: the --smoke run end to end through the Runner (pre-training,
both fine-tunings from the same seed, test), the CRL arm's backbone loaded from the
pre-training, the resume that skips finished runs, --pretrained with a {seed} placeholder, and
the report's comparison from fabricated runs."""
import json
import os
import os.path as osp

import matplotlib.image
import pytest
import torch

from tests.conftest import load_tool
from tests.test_datasets.test_h36m_action import tiny_action_file  # noqa: F401 (fixture)

study = load_tool('tools/analysis/action_study.py')
sr = study.sr


def test_smoke_runs_both_arms_then_skips_them(tmp_path, tiny_action_file, capsys):  # noqa: F811
    work = tmp_path / 'work'
    argv = ['--smoke', '--seeds', '0', '--work-dir', str(work),
            '--data-root', osp.dirname(tiny_action_file)]
    study.main(argv)
    out = capsys.readouterr().out
    assert 'scratch seed 0: TOP1' in out and 'crl seed 0: TOP1' in out
    assert 'pre-trained crl seed 0' in out and 'Epoch(train)' not in out
    res = json.loads((work / 'action.json').read_text())
    for arm in ('scratch', 'crl'):
        (run, ) = res['arms'][arm]['runs']
        assert run['seed'] == 0 and 0 <= run['top1'] <= 100 and run['epochs'] == 1
        assert run['top5'] >= run['top1'] and len(run['curve']) == 1
    assert res['comparison']['verdict'] == 'fewer than 2 seeds per arm'
    assert (work / 'action.md').read_text().startswith('# Action recognition with few labels')
    assert matplotlib.image.imread(str(work / 'action.png')).shape[0] > 100
    # the CRL arm started from the pre-trained student, the scratch arm did not
    pre = json.loads((work / 'runs' / 'pretrain-crl_s0.json').read_text())
    ckpt = work / pre['checkpoint']
    crl = json.loads((work / 'runs' / 'crl_s0.json').read_text())
    assert f'model.backbone.init_cfg.checkpoint={ckpt}' in crl['spec']['options']
    assert crl['pretrained']['checkpoint'] == str(ckpt)
    log = (work / 'train' / 'crl_s0' / 'console.log').read_text()
    assert f'load backbone. in model from: {ckpt}' in log and 'loss_cls' in log
    assert 'load backbone.' not in (work / 'train' / 'scratch_s0' / 'console.log').read_text()
    # again: nothing is trained
    mtimes = {p: os.path.getmtime(p) for p in (work / 'runs').iterdir()}
    study.main(argv)
    text = capsys.readouterr().out
    assert 'scratch seed 0: done before, skipped' in text
    assert 'crl seed 0: done before, skipped' in text
    assert mtimes == {p: os.path.getmtime(p) for p in (work / 'runs').iterdir()}

    # --pretrained with a {seed} placeholder: no pre-training, that checkpoint loaded
    other = tmp_path / 'other'
    pattern = str(work / 'pretrain' / 'crl_s{seed}' / 'epoch_1.pth')
    study.main(['--smoke', '--seeds', '0', '--arms', 'crl', '--work-dir', str(other),
                '--data-root', osp.dirname(tiny_action_file), '--pretrained', pattern])
    assert 'pre-trained crl' not in capsys.readouterr().out
    run = json.loads((other / 'runs' / 'crl_s0.json').read_text())
    assert f'model.backbone.init_cfg.checkpoint={ckpt}' in run['spec']['options']
    assert not (other / 'pretrain').exists() and not (other / 'runs' / 'scratch_s0.json').exists()
    with pytest.raises(FileNotFoundError, match='seed 1'):
        study.main(['--smoke', '--seeds', '1', '--arms', 'crl', '--work-dir', str(other),
                    '--pretrained', pattern])


def _fake_run(work, arm, seed, top1, curve):
    sr.write_json(osp.join(work, 'runs', f'{arm}_s{seed}.json'), dict(
        arm=arm, seed=seed, metrics={'action/top1': top1, 'action/top5': 99.0,
                                     'action/mean_class_accuracy': top1 - 1,
                                     'action/num_classes': 6}, train_seconds=5.0))
    vis = osp.join(work, 'train', f'{arm}_s{seed}', '20260101_000000', 'vis_data')
    os.makedirs(vis)
    with open(osp.join(vis, 'scalars.json'), 'w') as f:
        for epoch, value in enumerate(curve, 1):
            f.write(json.dumps({'loss': 1.0 / epoch, 'step': epoch * 18}) + '\n')
            f.write(json.dumps({'action/top1': value, 'step': epoch}) + '\n')


def test_report_compares_the_arms(tmp_path):
    work, out = str(tmp_path / 'work'), str(tmp_path / 'results')
    for seed, (s, c) in enumerate(((50.0, 70.0), (54.0, 71.0), (52.0, 72.0))):
        _fake_run(work, 'scratch', seed, s, [30.0, 40.0, s])
        _fake_run(work, 'crl', seed, c, [50.0, c])
    text = study.main(['--report-only', '--work-dir', work, '--results-dir', out])
    res = json.load(open(osp.join(out, 'action.json')))
    runs = res['arms']['crl']['runs']
    assert [r['top1'] for r in runs] == [70.0, 71.0, 72.0] and runs[0]['epochs'] == 2
    assert res['arms']['scratch']['runs'][1]['val_top1'] == 54.0
    cmp = res['comparison']
    assert cmp['difference'] == pytest.approx(71.0 - 52.0)
    assert cmp['standard_error'] == pytest.approx(((1.0 + 4.0) / 3) ** 0.5)
    assert cmp['verdict'].startswith('CRL beats scratch')
    assert res['arms']['scratch']['summary']['action/top1']['std'] == pytest.approx(2.0)
    assert 'CRL - scratch, top-1: +19.00 ± 1.29 percentage points' in text
    assert '| CRL pre-trained | 71.00 ± 1.00 |' in text
    assert 'top-5 only asks that the label is not the last one' in text
    assert osp.isfile(osp.join(out, 'action.png')) and osp.isfile(osp.join(out, 'action.md'))
