"""Action recognition with few labels on the SYNTHETIC data: CRL pre-training against scratch.

Classes: the six movement families of the synthetic default (Locomotion, Posture, UpperBody,
Kick, Jump, Floor). Labels: the clips of one training subject (S1). For each seed, the arms

- ``scratch``: ``dualpose-tiny-action_synthetic-27f`` (C 32, N 4) from random weights;
- ``crl``: ``dualpose-tiny-crl-action_synthetic-27f``, its backbone the student of the
  shipped CRL pre-training (the 2D of all training subjects, no labels): the pre-training of
  ``tools/analysis/ablation.py --mode converged`` / ``low_label_study.py``, reused from their
  work directory when it is there (``--pretrain-work-dir``), or checkpoints of your own
  (``--pretrained PATH`` with a ``{seed}`` placeholder);

are fine-tuned with the same schedule and seed, and the last epoch is scored once on the test
split (S9, S11): top-1 and top-5 accuracy (with 6 classes, top-5 leaves out one class only) and
the mean class accuracy. Validation on S5's clips is logged each epoch (the curves), never used
to choose anything.

Every run writes ``runs/<arm>_s<seed>.json``; a run whose json holds the same settings is
skipped when the command is repeated, so the study resumes where it stopped. Written:
``docs/results/action.json`` (per arm the runs: seed, top-1, top-5, mean class accuracy,
epochs, the validation curve; per metric mean ± std; CRL - scratch with its standard error),
``action.md`` (the table) and ``action.png`` (validation curves, pre-training loss).

    .venv/bin/python tools/analysis/action_study.py                  # 3 seeds, see --help
    .venv/bin/python tools/analysis/action_study.py --smoke          # seconds: a tiny model
    .venv/bin/python tools/analysis/action_study.py --report-only    # rebuild from the runs
"""
import argparse
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import ablation  # noqa: E402
import study_runs as sr  # noqa: E402

ARMS = ('scratch', 'crl')
LABELS = {'scratch': 'scratch', 'crl': 'CRL pre-trained'}
CONFIGS = {'scratch': ablation.SYN + 'dualpose-tiny-action_synthetic-27f.py',
           'crl': ablation.SYN + 'dualpose-tiny-crl-action_synthetic-27f.py'}
METRICS = ('action/top1', 'action/top5', 'action/mean_class_accuracy')
VAL_KEY = 'action/top1'
# the pre-training of the shipped config (one epoch of non-overlapping windows at batch 8,
# C 32, N 4, top-K 2, tau over 200 iterations): ablation.py's 'converged' mode, whose work
# directory the low-label study shares
PRETRAIN_MODE = 'converged'
# Measured on the project's 2-core VM while it was otherwise idle: one fine-tuning step of the
# C 32 model at batch 32 takes 0.49-0.53 s (1.0 s of CPU time), an epoch 16 s (18 steps, 9 s;
# validation on S5's 316 clips with flip test, 7 s), a run of 12 epochs with its start-up and
# test about 3.5 min; a pre-training step (batch 8, M=3) 0.42 s, the 396 steps about 3 min.
# Per seed about 10 min (7 when the pre-training is reused): 3 seeds about 30 min on 2 free
# cores (up to twice that when another job shares them).
MIN_PER_SEED = 10
SMOKE = dict(
    finetune=['model.backbone.arch.embed_dims=16', 'model.backbone.arch.depth=1',
              'model.backbone.arch.num_heads=2', 'train_cfg.max_epochs=1',
              'param_scheduler.0.end=1', 'seq_len=9', 'train_dataloader.dataset.stride=9',
              'train_dataloader.batch_size=16', 'default_hooks.logger.interval=5'],
    pretrain=['model.backbone.arch.embed_dims=16', 'model.backbone.arch.depth=1',
              'model.backbone.arch.num_heads=2', 'model.target_generator.top_k=1',
              'model.teacher.tau_iters=10', 'train_cfg.max_epochs=1', 'param_scheduler.0.end=1',
              'seq_len=9', 'train_dataloader.dataset.stride=27',
              'train_dataloader.batch_size=16', 'default_hooks.logger.interval=5'])


def budget(args) -> dict:
    """The options of the fine-tuning and of the pre-training runs."""
    finetune = list(SMOKE['finetune']) if args.smoke else []
    if args.epochs is not None:
        finetune += [f'train_cfg.max_epochs={args.epochs}',
                     f'param_scheduler.0.end={args.epochs}']
    pretrain = (list(SMOKE['pretrain']) if args.smoke else
                ablation.pretrain_options(ablation.MODES[PRETRAIN_MODE], 'crl'))
    if args.data_root:
        finetune += [f'{k}.dataset.data_root={args.data_root}'
                     for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
        pretrain += [f'train_dataloader.dataset.data_root={args.data_root}']
    return dict(finetune=finetune + list(args.cfg_options), pretrain=pretrain)


def pretrained_checkpoint(args, pre_work: str, pretrain_options, seed: int, log) -> dict:
    """``checkpoint`` (a path) and, when this study pre-trained or reused a pre-training of
    the ablation driver, its ``seconds`` and ``work`` dir."""
    if args.pretrained:
        path = osp.abspath(args.pretrained.format(seed=seed))
        if not osp.isfile(path):
            raise FileNotFoundError(f'--pretrained {args.pretrained!r}: {path!r} (seed {seed}) '
                                    'does not exist')
        return dict(checkpoint=path)
    pre = ablation.run_pretrain(pre_work, dict(key='crl', config=ablation.PRETRAIN,
                                               options=list(pretrain_options)), seed, log)
    return dict(checkpoint=osp.join(pre_work, pre['checkpoint']), seconds=pre['seconds'],
                work=pre_work)


def plan_arm(arm: str, options, checkpoint=None) -> dict:
    options = list(options)
    if checkpoint is not None:
        options.append(f'model.backbone.init_cfg.checkpoint={checkpoint}')
    return dict(config=CONFIGS[arm], options=options, pretrain=None)


# ------------------------------------------------------------------------------- report
def collect(work: str, seeds):
    """arm -> [run dict(seed, top1, top5, mean_class_accuracy, epochs, val_top1, curve)]."""
    arms = {arm: [] for arm in ARMS}
    for arm in ARMS:
        for seed in seeds:
            rec = sr.read_json(osp.join(work, 'runs', f'{arm}_s{seed}.json'))
            if rec is None or 'metrics' not in rec:
                continue
            curve = sr.read_curves(osp.join(work, 'train', f'{arm}_s{seed}'), VAL_KEY)['val']
            m = rec['metrics']
            arms[arm].append(dict(
                seed=seed, top1=m['action/top1'], top5=m['action/top5'],
                mean_class_accuracy=m['action/mean_class_accuracy'],
                num_classes=int(m.get('action/num_classes', 0)), epochs=len(curve),
                val_top1=curve[-1][1] if curve else None,
                curve=[[e, round(v, 3)] for e, v in curve],
                train_seconds=rec.get('train_seconds'), test_seconds=rec.get('test_seconds'),
                pretrain_seconds=rec.get('pretrain_seconds'),
                pretrained=rec.get('pretrained')))
    return arms


def comparison(summary: dict) -> dict:
    """CRL - scratch in top-1 (percentage points): difference of means, its standard error
    and the verdict (higher is better)."""
    d = ablation.compare(summary, 'crl', 'scratch', 'action/top1')
    if d is None:
        return dict(difference=None, standard_error=None, verdict='an arm has no run')
    diff, se = d
    if min(summary[a]['metrics']['action/top1']['n'] for a in ARMS) < 2:
        return dict(difference=diff, standard_error=None, verdict='fewer than 2 seeds per arm')
    if diff > 2 * se:
        verdict = 'CRL beats scratch by more than 2 standard errors'
    elif diff < -2 * se:
        verdict = 'CRL is worse than scratch by more than 2 standard errors'
    else:
        verdict = 'no difference beyond 2 standard errors'
    return dict(difference=diff, standard_error=se, verdict=verdict)


def table(arms, summary, cmp) -> str:
    from dualpose.utils.table import format_table
    header = ['arm', 'top-1 (%)', 'top-5 (%)', 'mean class acc. (%)', 'per seed top-1',
              'epochs']
    rows = []
    for arm in ARMS:
        runs, s = arms[arm], summary.get(arm)
        cells = [sr.mean_std(s['metrics'][k]) if s else '-' for k in METRICS]
        rows.append([LABELS[arm], *cells,
                     ', '.join(f's{r["seed"]} {r["top1"]:.2f}' for r in runs) or '-',
                     ', '.join(str(r['epochs']) for r in runs) or '-'])
    text = format_table(rows, header, style='markdown')
    if cmp['difference'] is not None:
        se = '' if cmp['standard_error'] is None else f' ± {cmp["standard_error"]:.2f}'
        text += (f'\n\nCRL - scratch, top-1: {cmp["difference"]:+.2f}{se} percentage points '
                 f'(difference of means ± its standard error): {cmp["verdict"]}.')
    classes = {r['num_classes'] for runs in arms.values() for r in runs}
    if classes and max(classes) <= 5:
        text += (f'\n\nNote: top-5 is trivial with {max(classes)} classes (every clip is a '
                 'hit).')
    elif classes and max(classes) == 6:
        text += '\n\nNote: with 6 classes top-5 only asks that the label is not the last one.'
    return text


def plot(arms, pre_dirs, out_file: str) -> str:
    """Validation top-1 per epoch of every fine-tuning run; pre-training loss per iteration."""
    return sr.plot_arm_curves(
        {arm: arms[arm] for arm in ARMS}, LABELS, pre_dirs, out_file,
        val_label='validation top-1 (%, S5 clips)',
        finetune_title='fine-tuning with the labels of S1',
        suptitle='Action recognition with few labels on the SYNTHETIC data (not NTU RGB+D)')


def report(work: str, seeds, results_dir: str, settings: dict, wall: float = None) -> str:
    arms = collect(work, seeds)
    records = [sr.read_json(osp.join(work, 'runs', f'{arm}_s{r["seed"]}.json'))
               for arm in ARMS for r in arms[arm]]
    summary = ablation.aggregate(records, METRICS)
    cmp = comparison(summary)
    out = dict(arms={arm: dict(runs=arms[arm],
                               summary=summary.get(arm, {}).get('metrics'))
                     for arm in ARMS},
               comparison=cmp, seeds=list(seeds), wall_seconds=wall, settings=settings,
               data='SYNTHETIC (tools/dataset_converters/make_synthetic_h36m.py): classes = '
               'the six movement families; labels of S1 only; test split S9 S11; accuracy in '
               'percent, clip level')
    text = table(arms, summary, cmp)
    pre_dirs = {r['seed']: osp.join(r['pretrained']['work'], 'pretrain', f'crl_s{r["seed"]}')
                for r in arms['crl'] if (r.get('pretrained') or {}).get('work')}
    for d in dict.fromkeys([work, results_dir]):
        os.makedirs(d, exist_ok=True)
        sr.write_json(osp.join(d, 'action.json'), out)
        with open(osp.join(d, 'action.md'), 'w') as f:
            f.write('# Action recognition with few labels (SYNTHETIC data)\n\n'
                    'Clip-level accuracy on the test split (S9, S11), the last epoch of each '
                    'fine-tuning; mean ± sample std over seeds '
                    f'{", ".join(map(str, seeds))}. Made by tools/analysis/action_study.py '
                    '(docs/action_recognition.md).\n\n' + text + '\n')
        plot(arms, pre_dirs, osp.join(d, 'action.png'))
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help=f'seeds (default 0 1 2; about {MIN_PER_SEED} min each on 2 CPU '
                        'cores, pre-training included)')
    parser.add_argument('--work-dir', default=None,
                        help='the fine-tuning runs (default work_dirs/action_study, '
                        'work_dirs/action_study_smoke with --smoke)')
    parser.add_argument('--pretrain-work-dir', default=None,
                        help='where pre-trainings are made or found (default '
                        'work_dirs/ablation_converged, shared with ablation.py --mode converged '
                        'and low_label_study.py; with --smoke the work dir)')
    parser.add_argument('--pretrained', default=None,
                        help='use these pre-trained checkpoints instead of pre-training; a '
                        '{seed} placeholder is filled per seed, e.g. '
                        'work_dirs/crl_s{seed}/epoch_1.pth')
    parser.add_argument('--results-dir', default=None,
                        help='where action.json/.md/.png go (default docs/results; with --smoke '
                        'the work dir)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='fine-tuning epochs (default: the config\'s, 12)')
    parser.add_argument('--data-root', default=None,
                        help='another synthetic data folder for every run (default the '
                        'configs\' data/h36m_synthetic/)')
    parser.add_argument('--arms', nargs='+', choices=ARMS, default=list(ARMS),
                        help='run only these arms (the report shows every arm with runs)')
    parser.add_argument('--smoke', action='store_true',
                        help='a seconds-long check: a tiny model, one epoch, T=9')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='more overrides for every fine-tuning run')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the runs and their commands, run nothing')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: rebuild the table, json and plot from the runs')
    args = parser.parse_args(argv)
    suffix = '_smoke' if args.smoke else ''
    work = osp.abspath(args.work_dir or f'work_dirs/action_study{suffix}')
    pre_work = osp.abspath(args.pretrain_work_dir or (work if args.smoke else
                                                      'work_dirs/ablation_converged'))
    results_dir = args.results_dir or (work if args.smoke else osp.join(sr.REPO, 'docs',
                                                                      'results'))
    opts = budget(args)
    settings = dict(finetune_options=opts['finetune'], pretrain_options=opts['pretrain'],
                    pretrained=args.pretrained, configs=CONFIGS, pretrain_config=ablation.PRETRAIN,
                    smoke=args.smoke)

    def log(text):
        print(text, flush=True)

    if args.dry_run:
        for seed in args.seeds:
            if 'crl' not in args.arms:
                pass
            elif args.pretrained:
                log(f'# seed {seed}: pre-trained {args.pretrained.format(seed=seed)}')
            else:
                log(f'# seed {seed}: pre-training (skipped if done in {pre_work})')
                log(sr.command_line('train.py', [ablation.PRETRAIN, '--seed', str(seed),
                                                 '--cfg-options', *opts['pretrain']]))
            for arm in args.arms:
                log(sr.command_line('train.py', [CONFIGS[arm], '--seed', str(seed),
                                                 *(['--cfg-options', *opts['finetune']]
                                                   if opts['finetune'] else [])]))
        log(f'about {MIN_PER_SEED * len(args.seeds)} min on 2 CPU cores')
        return opts
    start, wall = time.time(), None
    if not args.report_only:
        todo = [(seed, arm) for seed in args.seeds for arm in ARMS if arm in args.arms]
        for k, (seed, arm) in enumerate(todo, 1):
            log(f'[{k}/{len(todo)}] seed {seed} {arm} ({(time.time() - start) / 60:.1f} min '
                'elapsed)')
            pre = (pretrained_checkpoint(args, pre_work, opts['pretrain'], seed, log)
                   if arm == 'crl' else None)
            plan = plan_arm(arm, opts['finetune'], pre and pre['checkpoint'])
            record, ran = ablation.run_arm(work, 'action', arm, plan, seed, log, METRICS)
            if ran and pre is not None:   # where the backbone came from, for the report
                record.update(pretrained=pre, pretrain_seconds=pre.get('seconds'))
                sr.write_json(osp.join(work, 'runs', f'{arm}_s{seed}.json'), record)
            report(work, args.seeds, results_dir, settings, time.time() - start)
        wall = time.time() - start
    text = report(work, args.seeds, results_dir, settings, wall)
    log(text)
    return text


if __name__ == '__main__':
    main()
