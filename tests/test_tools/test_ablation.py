"""tools/analysis/ablation.py: the plan of every arm, the table and plot built from per-run
json files (no training), and one tiny arm run end to end (pre-training, fine-tuning, test)."""
import json
import os
import os.path as osp

import matplotlib.image
import pytest

from tests.conftest import REPO_ROOT, load_tool
from tests.test_tools.test_train_test import data_options

ablation = load_tool('tools/analysis/ablation.py')
sr = ablation.sr
SEEDS = (0, 1, 2)


# ------------------------------------------------------------------------------ the plan
@pytest.mark.parametrize('mode, depth', [('quick', 4), ('full', 4), ('long', 8),
                                         ('converged', 4)])
def test_plan_covers_every_study_with_the_settings_it_names(mode, depth):
    arms = ablation.arms_of(ablation.STUDIES)
    plan = ablation.build_plan(mode, arms)
    assert set(plan) == set(arms)
    for arm, p in plan.items():
        assert osp.isfile(osp.join(REPO_ROOT, p['config'])), arm
        sr.parse_options(p['options'])  # every option parses as --cfg-options parses it

    # streams: single-stream arms at about the dual-stream model's parameter count
    dual = ablation.param_count(plan['dual']['config'], plan['dual']['options'])
    for arm, stream in (('transformer', ('transformer', )), ('gcn', ('gcn', ))):
        cfg = sr.config_with(plan[arm]['config'], plan[arm]['options'])
        assert tuple(cfg.model.backbone.streams) == stream
        n = ablation.param_count(plan[arm]['config'], plan[arm]['options'])
        assert abs(n - dual) / dual < 0.12, (arm, n, dual)

    # every arm is a config file that differs from its study's reference arm in exactly one
    # model setting; the budget's options are the same for every arm of a study
    def flat(d, prefix=''):
        out = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f'{prefix}{k}.'))
            else:
                out[f'{prefix}{k}'] = repr(v)
        return out

    def diff(arm, ref, pretrain=False):
        a, b = (plan[x]['pretrain'] if pretrain else plan[x] for x in (arm, ref))
        fa, fb = (flat(sr.config_with(p['config'], p['options']).model.to_dict())
                  for p in (a, b))
        return sorted(f'{k}={fa.get(k)}' for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))

    for arm in ('mean', 'knn', 'tpos'):
        assert plan[arm]['options'] == plan['dual']['options'], arm
        assert plan[arm]['config'].startswith(ablation.ARMS_DIR), arm
    assert diff('mean', 'dual') == ["backbone.fusion.type='MeanFusion'"]
    assert diff('knn', 'dual') == ["backbone.gcn_stream.temporal_graph='knn'"]
    assert diff('knn-noself', 'knn') == ['backbone.gcn_stream.knn_self=False']
    assert diff('tpos', 'dual') == ['backbone.temporal_pos_embed=True']

    # low-label: same fine-tuning budget everywhere; pre-training settings differ in one
    # setting each; top-K is half (default) or a quarter of the depth
    ft = plan['scratch']['options']
    assert plan['scratch']['pretrain'] is None
    base = plan['crl']['pretrain']['options']
    assert plan['crl']['pretrain']['config'] == ablation.PRETRAIN
    depth_option = f'model.backbone.arch.depth={depth}'
    assert depth_option in ft and depth_option in base
    assert f'model.target_generator.top_k={depth // 2}' in base
    expected = {'crl-mask0.6': ['masking.ratio=0.6'], 'crl-mask0.8': ['masking.ratio=0.8'],
                'crl-m1': ['masking.num_masks=1'], 'crl-m5': ['masking.num_masks=5'],
                'crl-token': ["masking.mode='token'"],
                'crl-token-span': ["masking.mode='token'", 'masking.span=5',
                                   "masking.span_dim='joint'"],
                'crl-frozen': ['teacher.frozen=True'],
                'crl-literal': ["masking.mode='noise-literal'"],
                'crl-keepconf': ['masking.masked_confidence=None'],
                'crl-screen0.1': ["masking.noise_scale='screen'", 'masking.noise_std=0.1'],
                'crl-shared-embed': ['teacher.share_embedding=True'],
                'crl-tau-const': ['teacher.tau_start=0.999'],
                'crl-topk-quarter': [f'target_generator.top_k={depth // 4}']}
    assert set(expected) == {a for a in plan if a.startswith('crl-')}
    for arm, setting in expected.items():
        assert plan[arm]['options'] == ft and plan[arm]['config'] == plan['crl']['config']
        assert diff(arm, 'crl', pretrain=True) == setting, arm
        cfg = sr.config_with(plan[arm]['pretrain']['config'], plan[arm]['pretrain']['options'])
        assert cfg.model.backbone.arch.depth == depth


def test_plan_refuses_unknown_arms():
    with pytest.raises(KeyError, match='unknown arm'):
        ablation.build_plan('quick', ['no-such-arm'])
    with pytest.raises(SystemExit, match='not in the studies'):
        ablation.main(['--quick', '--studies', 'fusion', '--arms', 'gcn', '--dry-run'])


# ------------------------------------------------------------------------------ the report
def _fabricate(work, values):
    """runs/<arm>_s<seed>.json with MPJPE = v, P-MPJPE = v - 10, MPJVE = v / 10."""
    for arm, vals in values.items():
        for seed, v in zip(SEEDS, vals):
            sr.write_json(osp.join(work, 'runs', f'{arm}_s{seed}.json'), dict(
                arm=arm, seed=seed, params=1000,
                metrics={'lift/mpjpe': v, 'lift/p_mpjpe': v - 10, 'lift/mpjve': v / 10},
                train_seconds=60, test_seconds=6))


def test_report_from_fabricated_runs(tmp_path):
    work = str(tmp_path / 'work')
    values = {
        'dual': [40, 42, 44],         # mean 42, std 2
        'transformer': [50, 52, 54],  # +10, se sqrt(4/3 + 4/3): the paper's direction, clear
        'gcn': [47, 48, 49],
        'mean': [30, 41, 40],         # lower than adaptive: not held
        'knn': [41, 43, 45.5],        # +0.83, within noise
        'knn-noself': [42, 44, 46],
        'crl-tau-const': [70, 71, 72],  # -14, se 3.1: the paper's direction reversed
        'tpos': [43, 44, 45],
        'scratch': [80, 95, 110],     # +10, se 9.1: within noise
        'crl': [80, 85, 90],
        'crl-mask0.6': [85],          # one seed only
        'crl-mask0.8': [86, 87, 88],
        'crl-m1': [81, 86, 91],
        'crl-topk-quarter': [82, 85, 88],
        'crl-frozen': [95, 96, 97],    # +11, se 2.9: clear
        # crl-token: no runs -> the masking study is incomplete
    }
    _fabricate(work, values)
    table = ablation.main(['--quick', '--report-only', '--work-dir', work])
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip('|').split('|')]
        rows.setdefault(cells[1], cells)
    assert rows['dual-stream *'][3:6] == ['42.00 ± 2.00', '32.00 ± 2.00', '4.20 ± 0.20']
    assert rows['Transformer only'][6] == '+10.00 ± 1.63' and rows['Transformer only'][7] == '3'
    assert rows['dual-stream *'][0] == '**streams** (held (clear))'
    assert rows['adaptive *'][0] == '**fusion** (not held (within noise))'
    assert rows['banded *'][0] == '**temporal_graph** (held (within noise))'
    assert rows['learned token'][3:] == ['-', '-', '-', '-', '0']
    assert rows['Gaussian noise *'][0] == '**masking** (incomplete)'
    assert rows['P=0.6'][3] == '85.00' and rows['P=0.6'][7] == '1'  # one value: no spread
    assert rows['P=0.6'][0] == '**mask_ratio** (not held (one seed))'
    # the shared arm appears in every study that uses it, with the same numbers
    assert rows['adaptive *'][3] == rows['banded *'][3] == rows['none *'][3] == '42.00 ± 2.00'

    with open(osp.join(work, 'results.md')) as f:
        md = f.read()
    assert table in md and 'quick mode' in md and 'not Human3.6M' in md
    with open(osp.join(work, 'results.json')) as f:
        res = json.load(f)
    assert res['summary']['crl']['metrics']['lift/mpjpe'] == dict(
        mean=85.0, std=5.0, n=3, values=[80.0, 85.0, 90.0])
    assert res['verdicts']['pretraining'] == 'held (within noise)'
    assert res['verdicts']['teacher'] == 'held (clear)'
    assert res['verdicts']['tau_schedule'] == 'reversed'
    img = matplotlib.image.imread(osp.join(work, 'ablation.png'))
    assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 1000


def test_failed_run_names_the_command_and_its_log(tmp_path):
    with pytest.raises(sr.RunFailed, match='console.log') as err:
        sr.train('configs/no-such-config.py', str(tmp_path / 'run'), seed=0)
    assert 'no-such-config.py' in str(err.value)
    assert 'no-such-config.py' in (tmp_path / 'run' / 'console.log').read_text()


# ------------------------------------------------------------------------------ end to end
def test_one_tiny_arm_end_to_end_then_skipped(tmp_path, tiny_h36m_file, capsys):
    data_root = osp.dirname(tiny_h36m_file)
    work = tmp_path / 'work'
    argv = ['--quick', '--studies', 'pretraining', '--arms', 'crl', '--seeds', '0',
            '--work-dir', str(work), '--cfg-options', *data_options(data_root),
            'train_cfg.max_epochs=2', 'param_scheduler.0.end=2',
            '--pretrain-cfg-options', f'train_dataloader.dataset.data_root={data_root}',
            'train_dataloader.dataset.seq_len=9']
    ablation.main(argv)
    out = capsys.readouterr().out
    assert 'crl seed 0: MPJPE' in out and 'pre-trained crl seed 0' in out
    assert 'Epoch(train)' not in out  # the runs' console output went to their logs

    run = json.loads((work / 'runs' / 'crl_s0.json').read_text())
    assert 0 < run['metrics']['lift/mpjpe'] < 2000
    assert run['checkpoint'].startswith('best_lift_mpjpe_epoch_')
    assert run['pretrain']['key'] == 'crl' and run['spec']['pretrain']['key'] == 'crl'
    pre = json.loads((work / 'runs' / 'pretrain-crl_s0.json').read_text())
    ckpt = work / pre['checkpoint']
    assert ckpt.is_file()
    log = (work / 'train' / 'crl_s0' / 'console.log').read_text()
    assert f'checkpoint={ckpt}' in log and 'Epoch(train)' in log

    md = (work / 'results.md').read_text()
    assert '| CRL * |' in md and '| none (scratch) | - |' in md
    assert (work / 'ablation.png').is_file()

    # again: nothing is trained, the same record is kept
    mtime = os.path.getmtime(work / 'runs' / 'crl_s0.json')
    ablation.main(argv)
    assert 'crl seed 0: done before, skipped' in capsys.readouterr().out
    assert os.path.getmtime(work / 'runs' / 'crl_s0.json') == mtime


def test_estimate_times_steps_and_trains_nothing(tmp_path, tiny_h36m_file, capsys):
    data_root = osp.dirname(tiny_h36m_file)
    secs = ablation.main(['--quick', '--studies', 'fusion', '--arms', 'dual', '--seeds', '0', '1',
                          '--work-dir', str(tmp_path / 'work'), '--estimate',
                          '--cfg-options', *data_options(data_root)])
    assert 0 < secs < 600
    assert 'dual: about' in capsys.readouterr().out
    assert not (tmp_path / 'work').exists()


def _fake_run(work, arm, seed, mpjpe, curve):
    """A finished run as the ablation driver leaves it: its json and its scalars file."""
    sr.write_json(osp.join(work, 'runs', f'{arm}_s{seed}.json'), dict(
        arm=arm, seed=seed, metrics={'lift/mpjpe': mpjpe, 'lift/p_mpjpe': mpjpe * 0.8,
                                     'lift/mpjve': 5.0}, train_seconds=10.0))
    vis = osp.join(work, 'train', f'{arm}_s{seed}', '20260101_000000', 'vis_data')
    os.makedirs(vis)
    with open(osp.join(vis, 'scalars.json'), 'w') as f:
        for epoch, value in enumerate(curve, 1):
            f.write(json.dumps({'loss': 1.0 / epoch, 'step': epoch * 18}) + '\n')
            f.write(json.dumps({'lift/mpjpe': value, 'step': epoch}) + '\n')


def test_low_label_study_runs_the_converged_pretraining_study_and_reports(tmp_path):
    study = load_tool('tools/analysis/low_label_study.py')
    plan = study.ablation.build_plan('converged', list(study.ARMS))
    assert plan['crl']['pretrain']['config'] == ablation.PRETRAIN
    assert 'train_cfg.max_epochs=40' in plan['scratch']['options']
    assert 'train_dataloader.batch_size=8' in plan['scratch']['options']
    cfg = sr.config_with(plan['scratch']['config'], plan['scratch']['options'])
    assert cfg.train_dataloader.batch_size == 8 and cfg.param_scheduler[0]['end'] == 40
    stop = [h for h in cfg.custom_hooks if h['type'] == 'EarlyStoppingHook']
    assert stop and stop[0]['monitor'] == 'lift/mpjpe' and stop[0]['rule'] == 'less'
    work, out = str(tmp_path / 'work'), str(tmp_path / 'results')
    for seed, (s, c) in enumerate(((100.0, 90.0), (102.0, 91.0), (98.0, 92.0))):
        _fake_run(work, 'scratch', seed, s, [150.0, 120.0, s + 1, s + 3])
        _fake_run(work, 'crl', seed, c, [130.0, c + 2, c + 1, c + 4, c + 5])
    text = study.main(['--report-only', '--work-dir', work, '--results-dir', out])
    res = json.load(open(osp.join(out, 'low_label.json')))
    runs = res['arms']['crl']['runs']
    assert [r['seed'] for r in runs] == [0, 1, 2]
    assert [r['mpjpe'] for r in runs] == [90.0, 91.0, 92.0]
    assert runs[0]['epochs'] == 5 and runs[0]['best_epoch'] == 3
    assert res['arms']['scratch']['runs'][0]['best_epoch'] == 3
    cmp = res['comparison']
    assert cmp['difference'] == pytest.approx(91.0 - 100.0)
    assert cmp['standard_error'] == pytest.approx(((1.0 + 4.0) / 3) ** 0.5)
    assert cmp['verdict'].startswith('CRL beats scratch')
    assert 'CRL - scratch, MPJPE: -9.00' in text
    assert res['budget']['pretrain']['epochs'] == 1
    assert matplotlib.image.imread(osp.join(out, 'low_label.png')).shape[0] > 100
