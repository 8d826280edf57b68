"""The paper's ablations, reproduced at small scale on the SYNTHETIC data: one command.

Trains and tests every arm of every study with the same budget and the same seeds, then
writes, to the work directory, a Markdown table (mean ± sample std over seeds of MPJPE,
P-MPJPE and MPJVE, mm, test split), ``results.json`` and a bar chart ``ablation.png``:

    .venv/bin/python tools/analysis/ablation.py --quick      # 18.9 min measured, 2 CPU cores, noisy
    .venv/bin/python tools/analysis/ablation.py              # full mode: 89 min measured
    .venv/bin/python tools/analysis/ablation.py --mode long  # shipped budget: ~15.6 h estimated

Studies (arm marked * is the paper's choice):
  streams            dual-stream* | Transformer only | GCN only (depths matched on parameters)
  fusion             adaptive* | mean
  temporal graph     banded* | k-NN (k=2)
  temporal position  none* | learned embedding
  pre-training       none | CRL*   (low-label: 3D labels of S1 only; CRL on all training 2D)
  mask ratio         0.6 | 0.7* | 0.8          \\
  masked copies      M=1 | M=3*                 |  pre-training settings, each a CRL
  top-K              K=N/4 | K=N/2*             |  pre-training then the same low-label
  masking            Gaussian noise* | learned token  |  fine-tuning
  noise scale        std 1.0* | 0.1             |  (not in the paper: our diagnostic)
  teacher            EMA* | frozen copy        /

Every run writes ``runs/<arm>_s<seed>.json``; a run whose json holds the same settings is
skipped when the command is repeated, so a long study can span sessions (``--report-only``
rebuilds the table from what is there). Pre-training checkpoints are shared by the arms that
differ only in fine-tuning.
"""
import argparse
import math
import os
import os.path as osp
import shutil
import sys
import time
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import study_runs as sr  # noqa: E402

from dualpose.utils.table import format_table  # noqa: E402

SYN = 'configs/dualpose/synthetic/'
SUPERVISED = SYN + 'dualpose-tiny_synthetic-27f.py'
SCRATCH_S1 = SYN + 'dualpose-tiny_synthetic-s1-27f.py'
FINETUNE_S1 = SYN + 'dualpose-tiny-crl-finetune_synthetic-s1-27f.py'
PRETRAIN = SYN + 'dualpose-tiny-crl-pretrain_synthetic-27f.py'

# Budgets (one model size and budget per kind of run; every arm of a study gets the same):
# 'quick': narrow, shallow models and few clips (windows every 54 frames for the supervised
#   arms, 27 for low-label fine-tuning, 162 for pre-training, plus each video's last window),
#   sized to finish all arms x 3 seeds on 2 CPU cores in under 30 minutes (18.9 min
#   measured): about 45 supervised, 20 fine-tuning and 30 pre-training iterations per run;
#   single-pass test.
#   Far too few iterations to be evidence.
# 'full': the shipped synthetic model size (C 32, N 4) for every run, sized to finish all arms
#   x 3 seeds on 2 CPU cores in about 2 hours (89 min measured): clips every 27 frames
#   (supervised, every frame once per epoch), 18 (fine-tuning) and 27 (pre-training); 108
#   supervised, 60 fine-tuning and 80 pre-training iterations per run; flip-averaged test.
# 'long': the shipped synthetic configs (supervised arms exactly as dualpose-tiny_synthetic-27f;
#   low-label and pre-training as scratch-s1 / crl-pretrain-tiny but 8 blocks deep, so that
#   top-K is a quarter / half of 8 as the paper's 4 and 8 of 16): about 15 hours on 2 CPU
#   cores, resumable across sessions.
MODES = {
    'quick': dict(
        supervised=dict(embed_dims=16, depth=2, epochs=2, stride=54, batch_size=32,
                        flip_test=False),
        low_label=dict(embed_dims=16, depth=4, epochs=3, stride=27, batch_size=32,
                       flip_test=False),
        pretrain=dict(epochs=1, stride=162, batch_size=16, tau_iters=10),
    ),
    'full': dict(
        supervised=dict(embed_dims=32, depth=4, epochs=3, stride=27, batch_size=32,
                        flip_test=True),
        low_label=dict(embed_dims=32, depth=4, epochs=6, stride=18, batch_size=32,
                       flip_test=True),
        pretrain=dict(epochs=1, stride=27, batch_size=16, tau_iters=30),
    ),
    'long': dict(
        supervised=dict(embed_dims=32, depth=4, epochs=8, stride=9, batch_size=32,
                        flip_test=True),
        low_label=dict(embed_dims=32, depth=8, epochs=20, stride=9, batch_size=32,
                       flip_test=True),
        pretrain=dict(epochs=3, stride=9, batch_size=32, tau_iters=150),
    ),
    # 'converged': the low-label study's budget (tools/analysis/low_label_study.py shares its
    #   runs): fine-tuning until the validation MPJPE stops improving (the S1 configs' early
    #   stopping: no gain of 0.1 mm in 10 epochs, at most 40 epochs of 82 iterations), on the
    #   pre-training of the shipped config (one epoch of non-overlapping windows at batch 8:
    #   396 iterations, the loss flat by then); the supervised arms 12 epochs of all training
    #   subjects (stride 9, 267 iterations each), the best validated epoch scored. About 10 min
    #   per low-label arm and seed on 2 CPU cores.
    'converged': dict(
        supervised=dict(embed_dims=32, depth=4, epochs=12, stride=9, batch_size=32,
                        flip_test=True),
        low_label=dict(embed_dims=32, depth=4, epochs=40, stride=27, batch_size=8,
                       flip_test=True),
        pretrain=dict(epochs=1, stride=27, batch_size=8, tau_iters=200),
    ),
}

# Every arm is a config file; the budget (model size, epochs, clips) is laid over it as
# options, the same for every arm of a study.
ARMS_DIR = SYN + 'ablations/'
# Pre-training settings: the default is the paper's (P 0.7, M 3, K = half the depth, Gaussian
# noise, EMA teacher); each variant's config changes one of them.
PRETRAINS = {
    'crl': PRETRAIN,
    **{key: f'{ARMS_DIR}dualpose-tiny-crl-pretrain-{name}_synthetic-27f.py' for key, name in (
        ('mask0.6', 'mask0.6'), ('mask0.8', 'mask0.8'), ('m1', 'm1'), ('m5', 'm5'),
        ('topk-quarter', 'topk-quarter'), ('token', 'token'), ('token-span', 'token-span'),
        ('frozen', 'frozen-teacher'), ('literal', 'noise-literal'),
        ('keepconf', 'keep-confidence'), ('screen0.1', 'noise-screen0.1'),
        ('shared-embed', 'shared-embedding'), ('tau-const', 'tau-constant'))},
}
# K = depth // TOP_K_FRACTION of the budget's depth (the configs hold it for their own depth)
TOP_K_FRACTION = {'topk-quarter': 4}

# Supervised arms (all training subjects).
SUPERVISED_ARMS = {
    'dual': SUPERVISED,
    'transformer': SYN + 'dualpose-tiny-transformer-only_synthetic-27f.py',
    'gcn': SYN + 'dualpose-tiny-gcn-only_synthetic-27f.py',
    'mean': ARMS_DIR + 'dualpose-tiny-mean-fusion_synthetic-27f.py',
    'knn': ARMS_DIR + 'dualpose-tiny-knn-graph_synthetic-27f.py',
    'knn-noself': ARMS_DIR + 'dualpose-tiny-knn-graph-noself_synthetic-27f.py',
    'tpos': ARMS_DIR + 'dualpose-tiny-temporal-pos_synthetic-27f.py',
}
# single-stream arms get the depth whose parameter count is closest to the dual-stream model's
MATCH_PARAMS = ('transformer', 'gcn')

# Studies: name -> (question, the paper's direction, [(arm, label)], the paper's arm).
STUDIES = {
    'streams': ('Transformer and GCN streams together vs either alone, about equal parameters',
                'dual-stream better than either stream alone',
                [('dual', 'dual-stream'), ('transformer', 'Transformer only'),
                 ('gcn', 'GCN only')], 'dual'),
    'fusion': ('adaptive (learned per-token weights) vs mean fusion',
               'adaptive fusion better than the mean',
               [('dual', 'adaptive'), ('mean', 'mean')], 'dual'),
    'temporal_graph': ('temporal graph of the GCN stream: banded (t-1, t+1) vs k-NN (k=2, '
                       'with each frame allowed as its own neighbour as in MotionAGFormer, or '
                       'other frames only)',
                       'the paper uses the banded graph; MotionAGFormer uses k-NN',
                       [('dual', 'banded'), ('knn', 'k-NN (MotionAGFormer, self allowed)'),
                        ('knn-noself', 'k-NN, other frames')], 'dual'),
    'temporal_pos': ('learned temporal position embedding: none vs learned',
                     'none is better (the graph carries temporal order)',
                     [('dual', 'none'), ('tpos', 'learned')], 'dual'),
    'pretraining': ('CRL pre-training, low-label fine-tuning (3D labels of S1 only)',
                    'CRL pre-training lowers the error',
                    [('scratch', 'none (scratch)'), ('crl', 'CRL')], 'crl'),
    'mask_ratio': ('CRL mask ratio P', '0.7 best; 0.6 worse',
                   [('crl-mask0.6', 'P=0.6'), ('crl', 'P=0.7'), ('crl-mask0.8', 'P=0.8')],
                   'crl'),
    'num_masks': ('masked copies per sample M', 'M=3 better than M=1 (by 0.4 mm)',
                  [('crl-m1', 'M=1'), ('crl', 'M=3'), ('crl-m5', 'M=5')], 'crl'),
    'top_k': ('teacher blocks averaged into the target: a quarter vs half of the depth '
              '(the paper: 4 vs 8 of 16)', 'K=8 of 16 (half) chosen',
              [('crl-topk-quarter', 'K=N/4'), ('crl', 'K=N/2')], 'crl'),
    'masking': ('masked tokens: Gaussian noise on the 2D input vs a learned mask token '
                'after the position embedding (the public code), Bernoulli or in spans of 5 '
                'joints', 'Gaussian noise chosen over a learned token',
                [('crl', 'Gaussian noise'), ('crl-token', 'learned token'),
                 ('crl-token-span', 'learned token, 5-joint spans')], 'crl'),
    'masking_noise': ('how noise masks a token: the paper read literally (all 3 channels, '
                      'confidence included, N(0, 1) in screen units) vs the coordinates only, '
                      'on the body\'s extent with confidence 0 (our default) or kept, or '
                      'N(0, 0.1) in screen units with confidence 0',
                      'not reported by the paper: the paper\'s literal reading marked *',
                      [('crl-literal', 'literal (3 channels, std 1 screen)'),
                       ('crl', 'coordinates, body scale, confidence 0'),
                       ('crl-keepconf', 'coordinates, body scale, confidence kept'),
                       ('crl-screen0.1', 'coordinates, std 0.1 screen, confidence 0')],
                      'crl-literal'),
    'teacher': ('teacher: EMA of the student vs a frozen copy (the public code\'s behaviour)',
                'EMA teacher (the paper\'s method)',
                [('crl', 'EMA'), ('crl-frozen', 'frozen copy')], 'crl'),
    'teacher_embedding': ('teacher: a full EMA copy (the paper) vs the student\'s embedding '
                          'shared (data2vec shares the feature encoder)',
                          'not stated by the paper: its EMA of the whole backbone marked *',
                          [('crl', 'full EMA copy'), ('crl-shared-embed', 'shared embedding')],
                          'crl'),
    'tau_schedule': ('teacher weight tau: the linear rise 0.99 -> 0.999 (the paper, data2vec) '
                     'vs constant 0.999', 'the linear increase of tau',
                     [('crl', 'linear rise'), ('crl-tau-const', 'constant')], 'crl'),
}


# ------------------------------------------------------------------------------- the plan
def size_options(size: dict, head: bool = True) -> List[str]:
    """Options that set a study's model size and budget."""
    opts = [f'model.backbone.arch.embed_dims={size["embed_dims"]}',
            f'model.backbone.arch.depth={size["depth"]}',
            f'train_cfg.max_epochs={size["epochs"]}',
            f'param_scheduler.0.end={size["epochs"]}',
            f'train_dataloader.dataset.stride={size["stride"]}',
            f'train_dataloader.batch_size={size["batch_size"]}']
    if head:
        opts += [f'model.head.in_channels={size["embed_dims"]}',
                 f'model.test_cfg.flip_test={size["flip_test"]}']
    return opts


def pretrain_options(mode: dict, key: str) -> List[str]:
    """The budget's options on the pre-training setting ``key``'s config."""
    size = mode['low_label']
    pre = mode['pretrain']
    depth = size['depth']
    base = size_options(dict(size, epochs=pre['epochs'], stride=pre['stride'],
                             batch_size=pre['batch_size']), head=False)
    top_k = max(depth // TOP_K_FRACTION.get(key, 2), 1)
    return base + [f'model.target_generator.top_k={top_k}',
                   f'model.teacher.tau_iters={pre["tau_iters"]}']


def param_count(config: str, options: Sequence[str]) -> int:
    """Parameters of the config's model with ``options``."""
    from dualpose.apis.complexity import build_model
    return sum(p.numel() for p in build_model(sr.config_with(config, options)).parameters())


def matched_depth(config: str, options: Sequence[str], target: int) -> int:
    """The depth whose model (``config`` with ``options`` + that depth) has the parameter count
    closest to ``target``. Parameters grow linearly with depth: two models tell the line."""
    one, two = (param_count(config, [*options, f'model.backbone.arch.depth={d}'])
                for d in (1, 2))
    return max(1, round((target - (2 * one - two)) / (two - one)))


def arms_of(studies: Sequence[str]) -> List[str]:
    """The arms these studies need, each once, in order."""
    return list(dict.fromkeys(arm for s in studies for arm, _ in STUDIES[s][2]))


def build_plan(mode_name: str, arms: Sequence[str], extra: Sequence[str] = (),
               pretrain_extra: Sequence[str] = ()) -> Dict[str, dict]:
    """arm -> dict(config, options, pretrain): ``pretrain`` is None or dict(key, config,
    options).
    ``extra`` / ``pretrain_extra`` are appended to the options of every (pre-)training run."""
    mode = MODES[mode_name]
    sup = size_options(mode['supervised'])
    low = size_options(mode['low_label'])
    plan = {}
    target = None
    for arm in arms:
        pretrain = None
        if arm in SUPERVISED_ARMS:
            config, opts = SUPERVISED_ARMS[arm], list(sup)
            if arm in MATCH_PARAMS:
                target = target or param_count(SUPERVISED, [*sup, *extra])
                depth = matched_depth(config, [*opts, *extra], target)
                opts = [o for o in opts if not o.startswith('model.backbone.arch.depth=')]
                opts.append(f'model.backbone.arch.depth={depth}')
        elif arm == 'scratch':
            config, opts = SCRATCH_S1, list(low)
        elif arm == 'crl' or arm.startswith('crl-') and arm[4:] in PRETRAINS:
            key = 'crl' if arm == 'crl' else arm[4:]
            config, opts = FINETUNE_S1, list(low)
            pretrain = dict(key=key, config=PRETRAINS[key],
                            options=pretrain_options(mode, key) + list(pretrain_extra))
        else:
            raise KeyError(f'unknown arm {arm!r}')
        plan[arm] = dict(config=config, options=opts + list(extra), pretrain=pretrain)
    return plan


# ------------------------------------------------------------------------------- running
def run_pretrain(work: str, pretrain: dict, seed: int, log) -> dict:
    """Pre-train the setting ``pretrain`` (key, options) with ``seed``, or reuse the
    checkpoint of an earlier identical run; returns its record."""
    key, config, options = pretrain['key'], pretrain['config'], list(pretrain['options'])
    spec = dict(config=config, options=options, seed=seed)
    path = osp.join(work, 'runs', f'pretrain-{key}_s{seed}.json')
    done = sr.read_json(path)
    if done and done.get('spec') == spec and osp.isfile(osp.join(work, done['checkpoint'])):
        return done
    run_dir = osp.join(work, 'pretrain', f'{key}_s{seed}')
    shutil.rmtree(run_dir, ignore_errors=True)
    secs = sr.train(config, run_dir, options, seed)
    record = dict(spec=spec, seconds=secs,
                  checkpoint=osp.relpath(sr.last_checkpoint(run_dir), work),
                  command=sr.command_line('train.py', [config, '--seed', str(seed),
                                                       '--cfg-options', *options]))
    sr.write_json(path, record)
    log(f'  pre-trained {key} seed {seed}: {secs:.0f} s')
    return record


def run_arm(work: str, mode_name: str, arm: str, spec_arm: dict, seed: int, log,
            metrics: Sequence[str] = sr.METRICS) -> dict:
    """Train and test one arm with one seed, unless its json holds the same spec.
    Returns ``(record, whether it ran)``; ``metrics``: the test keys its line prints."""
    options = list(spec_arm['options'])
    spec = dict(config=spec_arm['config'], options=options, seed=seed,
                pretrain=spec_arm['pretrain'])
    path = osp.join(work, 'runs', f'{arm}_s{seed}.json')
    done = sr.read_json(path)
    if done and done.get('spec') == spec and 'metrics' in done:
        log(f'{arm} seed {seed}: done before, skipped')
        return done, False
    record = dict(arm=arm, seed=seed, mode=mode_name, spec=spec)
    run_options = list(options)
    if spec_arm['pretrain'] is not None:
        pre = run_pretrain(work, spec_arm['pretrain'], seed, log)
        record['pretrain'] = dict(key=spec_arm['pretrain']['key'], seconds=pre['seconds'],
                                  command=pre['command'])
        run_options.append('model.backbone.init_cfg.checkpoint='
                           + osp.join(work, pre['checkpoint']))
    run_dir = osp.join(work, 'train', f'{arm}_s{seed}')
    shutil.rmtree(run_dir, ignore_errors=True)
    res = sr.train_and_test(spec_arm['config'], run_dir, run_options, seed)
    record.update(res)
    record['params'] = param_count(spec_arm['config'], options)
    record['command'] = sr.command_line(
        'train.py', [spec_arm['config'], '--seed', str(seed), '--cfg-options', *run_options])
    sr.write_json(path, record)
    m = res['metrics']
    log(f'{arm} seed {seed}: ' + ', '.join(f'{sr.metric_name(k)} {m[k]:.2f}'
                                          for k in metrics)
        + f' ({res["train_seconds"]:.0f} s train, {res["test_seconds"]:.0f} s test)')
    return record, True


# ------------------------------------------------------------------------------- estimate
def estimate(plan: Dict[str, dict], seeds: Sequence[int], log, overhead: float = 3.0) -> float:
    """Rough wall seconds of running ``plan`` with ``seeds`` on this machine, from the
    measured time of a few optimisation steps and evaluation passes of each model: steps per
    epoch x epochs, validation each epoch, one test, and ``overhead`` seconds per run (building
    the runner, reading the data, checkpoints). Trains nothing."""
    datasets, timings = {}, {}

    def dataset(cfg, key):
        k = repr(cfg[key]['dataset'])
        if k not in datasets:
            datasets[k] = sr.build_dataset(cfg, key)
        return datasets[k]

    def seconds(cfg):
        train_ds = dataset(cfg, 'train_dataloader')
        batch = cfg.train_dataloader.batch_size
        model = cfg.model.copy()
        model.backbone = {k: v for k, v in model.backbone.items() if k != 'init_cfg'}
        k = (repr(model), batch)
        if k not in timings:
            timings[k] = sr.time_model(cfg, dataset=train_ds)
        t = timings[k]
        epochs = cfg.train_cfg.max_epochs
        secs = epochs * math.ceil(len(train_ds) / batch) * t['step']
        if cfg.get('val_dataloader') and cfg.get('test_dataloader'):
            clips = (epochs * len(dataset(cfg, 'val_dataloader'))
                     + len(dataset(cfg, 'test_dataloader')))
            secs += clips / batch * t['forward']
        return secs + overhead

    total, pretrained = 0.0, set()
    for arm, p in plan.items():
        secs = seconds(sr.config_with(p['config'], p['options']))
        if p['pretrain'] and p['pretrain']['key'] not in pretrained:
            pretrained.add(p['pretrain']['key'])
            secs += seconds(sr.config_with(p['pretrain']['config'], p['pretrain']['options']))
        log(f'{arm}: about {secs / 60:.1f} min per seed')
        total += secs
    return total * len(seeds)


# ------------------------------------------------------------------------------- report
def aggregate(records: Sequence[dict], metrics: Sequence[str] = sr.METRICS
              ) -> Dict[str, dict]:
    """arm -> dict(metrics: {metric: summary}, params, seeds, seconds) over its records."""
    by_arm: Dict[str, List[dict]] = {}
    for r in records:
        by_arm.setdefault(r['arm'], []).append(r)
    out = {}
    for arm, rs in by_arm.items():
        rs = sorted(rs, key=lambda r: r['seed'])
        out[arm] = dict(
            metrics={k: sr.summarize([r['metrics'][k] for r in rs]) for k in metrics},
            params=rs[0].get('params'),
            seeds=[r['seed'] for r in rs],
            seconds=sum(r.get('train_seconds', 0) + r.get('test_seconds', 0)
                        + r.get('pretrain', {}).get('seconds', 0) for r in rs))
    return out


def compare(summary: Dict[str, dict], arm: str, ref: str, key: str = 'lift/mpjpe'):
    """(difference of means arm - ref, its standard error) of one metric, or None."""
    if arm not in summary or ref not in summary:
        return None
    a, b = summary[arm]['metrics'][key], summary[ref]['metrics'][key]
    if not a['n'] or not b['n']:
        return None
    se = math.sqrt(a['std'] ** 2 / a['n'] + b['std'] ** 2 / b['n'])
    return a['mean'] - b['mean'], se


def verdict(summary: Dict[str, dict], study: str) -> str:
    """Whether the paper's direction holds: ``'held'`` when the paper's arm has the lowest
    mean MPJPE, ``'reversed'`` when another arm is lower by more than twice the standard
    error of the difference, ``'not held'`` when another is lower within that; with
    ``(clear)`` / ``(within noise)`` for a held result (clear: every difference exceeds twice
    its standard error) and ``(one seed)`` when an arm has a single run."""
    _, _, rows, paper = STUDIES[study]
    others = [arm for arm, _ in rows if arm != paper]
    diffs = [compare(summary, arm, paper) for arm in others]
    if any(d is None for d in diffs):
        return 'incomplete'
    held = all(d > 0 for d, _ in diffs)
    seeded = all(summary[arm]['metrics']['lift/mpjpe']['n'] > 1 for arm, _ in rows)
    if not seeded:
        return ('held' if held else 'not held') + ' (one seed)'
    if held:
        clear = all(abs(d) > 2 * se for d, se in diffs)
        return 'held' + (' (clear)' if clear else ' (within noise)')
    if any(d < 0 and abs(d) > 2 * se for d, se in diffs):
        return 'reversed'
    return 'not held (within noise)'


def markdown_table(summary: Dict[str, dict], studies: Sequence[str] = tuple(STUDIES)) -> str:
    header = (['study', 'arm', 'params'] + [f'{sr.metric_name(k)} (mm)' for k in sr.METRICS]
              + ["Δ MPJPE vs paper's", 'seeds'])
    rows = []
    for study in studies:
        _, _, arms, paper = STUDIES[study]
        for i, (arm, label) in enumerate(arms):
            s = summary.get(arm)
            name = f'**{study}** ({verdict(summary, study)})' if i == 0 else ''
            label = label + ' *' if arm == paper else label
            if s is None:
                rows.append([name, label, '-'] + ['-'] * len(sr.METRICS) + ['-', 0])
                continue
            d = compare(summary, arm, paper)
            delta = '' if arm == paper or d is None else f'{d[0]:+.2f} ± {d[1]:.2f}'
            params = f'{s["params"] / 1e3:.1f} k' if s.get('params') else '-'
            rows.append([name, label, params]
                        + [sr.mean_std(s['metrics'][k]) for k in sr.METRICS]
                        + [delta, len(s['seeds'])])
    return format_table(rows, header, style='markdown')


def plot(summary: Dict[str, dict], out_file: str, title: str = '',
         studies: Sequence[str] = tuple(STUDIES)) -> str:
    """Bar chart: per study, MPJPE and P-MPJPE of each arm (mean, error bar = sample std,
    dots = seeds)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = 5 if len(studies) > 4 else len(studies)
    nrows = math.ceil(len(studies) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 3.4 * nrows), squeeze=False)
    width = 0.38
    for ax, study in zip(axes.flat, studies):
        _, _, rows, paper = STUDIES[study]
        for j, (key, color) in enumerate((('lift/mpjpe', '#4c72b0'),
                                          ('lift/p_mpjpe', '#dd8452'))):
            for i, (arm, _) in enumerate(rows):
                s = summary.get(arm)
                if s is None or not s['metrics'][key]['n']:
                    continue
                m = s['metrics'][key]
                x = i + (j - 0.5) * width
                ax.bar(x, m['mean'], width, yerr=m['std'], color=color, capsize=3,
                       edgecolor='black' if arm == paper else color,
                       label=sr.metric_name(key) if i == 0 else None)
                ax.plot([x] * m['n'], m['values'], 'k.', markersize=3)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([lab + ('*' if arm == paper else '') for arm, lab in rows],
                           rotation=20, fontsize=7, ha='right')
        ax.set_title(study.replace('_', ' '), fontsize=9)
        ax.tick_params(axis='y', labelsize=7)
        ax.set_ylabel('mm', fontsize=7)
    for ax in list(axes.flat)[len(studies):]:
        ax.axis('off')
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc='upper center', bbox_to_anchor=(0.5, 0.955), ncol=2,
                   fontsize=8, frameon=False)
    fig.suptitle(title + '  (* the paper\'s choice; bars: mean, whiskers: std, dots: seeds)',
                 fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(out_file, dpi=110)
    plt.close(fig)
    return out_file


def write_report(work: str, mode_name: str, records: Sequence[dict], seeds: Sequence[int],
                 studies: Sequence[str] = tuple(STUDIES), wall_seconds: Optional[float] = None):
    """results.md, results.json and ablation.png in ``work`` from the per-run records."""
    summary = aggregate(records)
    table = markdown_table(summary, studies)
    lines = [f'# Ablations on the SYNTHETIC data ({mode_name} mode)', '',
             f'Mean ± sample std over seeds {", ".join(map(str, seeds))}; millimetres on the '
             'synthetic test split; * marks the paper\'s choice; Δ = arm - paper\'s choice '
             '(± its standard error); a study\'s verdict is "held" when the paper\'s choice has '
             'the lowest mean MPJPE, "clear" when every difference exceeds twice its standard '
             'error. These are not Human3.6M numbers.', '', table, '']
    if wall_seconds is not None:
        lines.append(f'Wall time of this invocation: {wall_seconds / 60:.1f} min.')
    total = sum(s['seconds'] for s in summary.values())
    lines.append(f'Training and testing time summed over the runs: {total / 60:.1f} min '
                 '(a shared pre-training counted for each arm that uses it).')
    lines += ['', '| study | question | paper |', '|---|---|---|']
    for study in studies:
        question, direction, _, _ = STUDIES[study]
        lines.append(f'| {study} | {question} | {direction} |')
    with open(osp.join(work, 'results.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    sr.write_json(osp.join(work, 'results.json'), dict(
        mode=mode_name, seeds=list(seeds), summary=summary,
        verdicts={s: verdict(summary, s) for s in studies}, wall_seconds=wall_seconds))
    plot(summary, osp.join(work, 'ablation.png'), f'{mode_name} mode, seeds {list(seeds)}',
         studies)
    return table


def publish(work: str, dest: str = osp.join(sr.REPO, 'docs', 'results')) -> List[str]:
    """Copy the report of ``work`` to ``dest`` as ablations.md / .json / .png."""
    os.makedirs(dest, exist_ok=True)
    out = []
    for src, name in (('results.md', 'ablations.md'), ('results.json', 'ablations.json'),
                      ('ablation.png', 'ablations.png')):
        shutil.copyfile(osp.join(work, src), osp.join(dest, name))
        out.append(osp.relpath(osp.join(dest, name), sr.REPO))
    return out


def collect(work: str, arms: Sequence[str], seeds: Sequence[int]) -> List[dict]:
    """The per-run records present in ``work`` for these arms and seeds."""
    records = []
    for arm in arms:
        for seed in seeds:
            r = sr.read_json(osp.join(work, 'runs', f'{arm}_s{seed}.json'))
            if r is not None and 'metrics' in r:
                records.append(r)
    return records


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--publish', action='store_true',
                        help='also write the table, json and plot to docs/results/ '
                        '(ablations.md, ablations.json, ablations.png)')
    parser.add_argument('--mode', choices=list(MODES), default='full',
                        help='budget: converged (the low-label study\'s: fine-tuning until '
                        'validation stops improving), quick (18.9 min measured on 2 CPU '
                        'cores, noisy), full '
                        '(89 min measured), long (the shipped configs\' budget, about 15.6 h '
                        'estimated, resumable)')
    parser.add_argument('--quick', dest='mode', action='store_const', const='quick',
                        help='the same as --mode quick')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--studies', nargs='+', choices=list(STUDIES), default=list(STUDIES))
    parser.add_argument('--arms', nargs='+',
                        help='run only these arms of the chosen studies (the table still '
                        'shows every arm whose runs are present)')
    parser.add_argument('--work-dir', help='default work_dirs/ablation (full), '
                        'work_dirs/ablation_quick, work_dirs/ablation_long, '
                        'work_dirs/ablation_converged')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: rebuild the table and plot from the runs present')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands each arm would run, and run nothing')
    parser.add_argument('--estimate', action='store_true',
                        help='time a few steps of each model and print the expected wall time '
                        'of the study on this machine; trains nothing')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides added to every supervised and fine-tuning '
                        'run (part of each run\'s settings)')
    parser.add_argument('--pretrain-cfg-options', nargs='+', default=[],
                        help='key=value overrides added to every pre-training run')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    mode_name = args.mode
    suffix = '' if mode_name == 'full' else '_' + mode_name
    work = osp.abspath(args.work_dir or f'work_dirs/ablation{suffix}')
    needed = arms_of(args.studies)
    to_run = needed
    if args.arms:
        unknown = sorted(set(args.arms) - set(needed))
        if unknown:
            sys.exit(f'error: arms {unknown} are not in the studies {args.studies} '
                     f'(their arms: {needed})')
        to_run = [a for a in needed if a in args.arms]

    def log(text):
        print(text, flush=True)

    if args.report_only:
        table = write_report(work, mode_name, collect(work, needed, args.seeds), args.seeds,
                             args.studies)
        log(table)
        if args.publish:
            log('published: ' + ', '.join(publish(work)))
        return table
    plan = build_plan(mode_name, to_run, args.cfg_options, args.pretrain_cfg_options)
    if args.dry_run:
        for arm, p in plan.items():
            if p['pretrain']:
                log(f'# {arm}: pre-training ({p["pretrain"]["key"]}) then fine-tuning')
                log(sr.command_line('train.py', [p['pretrain']['config'], '--cfg-options',
                                                 *p['pretrain']['options']]))
            else:
                log(f'# {arm}')
            log(sr.command_line('train.py', [p['config'], '--cfg-options', *p['options']]))
        return plan
    if args.estimate:
        secs = estimate(plan, args.seeds, log)
        log(f'{mode_name} mode, {len(args.seeds)} seeds: about {secs / 60:.0f} min '
            f'({secs / 3600:.1f} h) on this machine')
        return secs
    os.makedirs(work, exist_ok=True)
    start = time.time()
    total, done, ran = len(args.seeds) * len(to_run), 0, 0
    for i, seed in enumerate(args.seeds):
        for arm in to_run:
            ran += run_arm(work, mode_name, arm, plan[arm], seed, log)[1]
            done += 1
            spent = time.time() - start
            if ran:
                log(f'  [{done}/{total}] {spent / 60:.1f} min so far, about '
                    f'{spent / ran * (total - done) / 60:.0f} min to go')
        write_report(work, mode_name, collect(work, needed, args.seeds[:i + 1]),
                     args.seeds[:i + 1], args.studies, time.time() - start)
    wall = time.time() - start
    table = write_report(work, mode_name, collect(work, needed, args.seeds), args.seeds,
                         args.studies, wall)
    log(table)
    log(f'{wall / 60:.1f} min; written to {work}: results.md, results.json, ablation.png')
    if args.publish:
        log('published: ' + ', '.join(publish(work)))
    return table


if __name__ == '__main__':
    main()
