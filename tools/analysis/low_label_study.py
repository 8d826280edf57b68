"""Low-label study of CRL pre-training at convergence, on the SYNTHETIC data (the paper's claim).

For each seed: pre-train on the 2D of all training subjects (one epoch of non-overlapping
windows at batch 8: 396 iterations), then fine-tune with the 3D labels of S1 only until the validation
MPJPE on S1's held-out recordings stops improving (no gain of 0.1 mm in 10 epochs, at most 40);
against the same fine-tuning from scratch (same seed, same schedule, same stopping rule). Each
arm's best validated epoch is scored once on the test split (flip test).

These are the 'pretraining' study's runs of the ablation driver in its 'converged' mode, in the
same work directory (``work_dirs/ablation_converged``): either command reuses the runs the other
made, and a finished run is skipped when the command is repeated (the study resumes across
sessions). Written: ``docs/results/low_label.json`` (per arm the runs: seed, MPJPE, P-MPJPE,
MPJVE, epochs trained, best epoch, the validation curve), ``low_label.md`` (the table) and
``low_label.png`` (validation curves, pre-training loss), and the same in the work directory.

    .venv/bin/python tools/analysis/low_label_study.py                 # 3 seeds, about 75 min
    .venv/bin/python tools/analysis/low_label_study.py --seeds 0       # about 25 min
    .venv/bin/python tools/analysis/low_label_study.py --report-only   # rebuild from the runs
"""
import argparse
import math
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import ablation  # noqa: E402
import study_runs as sr  # noqa: E402

ARMS = ('scratch', 'crl')
MODE = 'converged'
MIN_PER_SEED = 25  # pre-training ~4 min, two fine-tunings ~10 min each


def run_record(work: str, arm: str, seed: int):
    return sr.read_json(osp.join(work, 'runs', f'{arm}_s{seed}.json'))


def collect(work: str, seeds):
    """arm -> [run dict(seed, mpjpe, p_mpjpe, mpjve, epochs, best_epoch, curve)]."""
    arms = {arm: [] for arm in ARMS}
    for arm in ARMS:
        for seed in seeds:
            rec = run_record(work, arm, seed)
            if rec is None or 'metrics' not in rec:
                continue
            curve = sr.read_curves(osp.join(work, 'train', f'{arm}_s{seed}'))['val']
            best = min(curve, key=lambda p: p[1])[0] if curve else None
            m = rec['metrics']
            arms[arm].append(dict(seed=seed, mpjpe=m['lift/mpjpe'], p_mpjpe=m['lift/p_mpjpe'],
                                  mpjve=m['lift/mpjve'], epochs=len(curve), best_epoch=best,
                                  curve=[[e, round(v, 3)] for e, v in curve],
                                  train_seconds=rec.get('train_seconds'),
                                  pretrain_seconds=rec.get('pretrain', {}).get('seconds')))
    return arms


def summary(runs, key):
    return sr.summarize([r[key] for r in runs])


def comparison(arms):
    """CRL - scratch in MPJPE: difference of means, its standard error, and the verdict."""
    a, b = summary(arms['crl'], 'mpjpe'), summary(arms['scratch'], 'mpjpe')
    if a['n'] < 2 or b['n'] < 2:
        return dict(difference=(a['mean'] - b['mean']) if a['n'] and b['n'] else None,
                    standard_error=None, verdict='fewer than 2 seeds per arm')
    diff = a['mean'] - b['mean']
    se = math.sqrt(a['std'] ** 2 / a['n'] + b['std'] ** 2 / b['n'])
    if diff < 0 and -diff > 2 * se:
        verdict = 'CRL beats scratch by more than 2 standard errors'
    elif diff > 0 and diff > 2 * se:
        verdict = 'CRL is worse than scratch by more than 2 standard errors'
    else:
        verdict = 'no difference beyond 2 standard errors'
    return dict(difference=diff, standard_error=se, verdict=verdict)


def table(arms, cmp) -> str:
    header = ['arm', 'MPJPE (mm)', 'P-MPJPE (mm)', 'MPJVE (mm)', 'per seed MPJPE',
              'epochs trained (best)']
    rows = []
    for arm, label in (('scratch', 'scratch'), ('crl', 'CRL pre-trained')):
        runs = arms[arm]
        rows.append([label] + [sr.mean_std(summary(runs, k)) for k in ('mpjpe', 'p_mpjpe',
                                                                        'mpjve')]
                    + [', '.join(f's{r["seed"]} {r["mpjpe"]:.2f}' for r in runs) or '-',
                       ', '.join(f'{r["epochs"]} ({r["best_epoch"]})' for r in runs) or '-'])
    from dualpose.utils.table import format_table
    text = format_table(rows, header, style='markdown')
    if cmp['difference'] is not None:
        se = '' if cmp['standard_error'] is None else f' ± {cmp["standard_error"]:.2f}'
        text += (f'\n\nCRL - scratch, MPJPE: {cmp["difference"]:+.2f}{se} mm '
                 f'(difference of means ± its standard error): {cmp["verdict"]}.')
    return text


def plot(work: str, arms, seeds, out_file: str) -> str:
    """Validation MPJPE per epoch of every fine-tuning run; pre-training loss per iteration."""
    pre_dirs = {seed: osp.join(work, 'pretrain', f'crl_s{seed}') for seed in seeds}
    return sr.plot_arm_curves(
        {arm: arms[arm] for arm in ARMS}, {'scratch': 'scratch', 'crl': 'CRL'}, pre_dirs,
        out_file, val_label='validation MPJPE (mm, S1 held-out)',
        finetune_title='fine-tuning with the 3D labels of S1',
        suptitle='Low-label study on the SYNTHETIC data (not Human3.6M)')


def report(work: str, seeds, results_dir: str, wall: float = None) -> str:
    arms = collect(work, seeds)
    cmp = comparison(arms)
    budget = dict(mode=MODE, **ablation.MODES[MODE]['low_label'],
                  pretrain=ablation.MODES[MODE]['pretrain'],
                  stopping='no validation gain of 0.1 mm in 10 epochs (EarlyStoppingHook; at '
                  'most 40 epochs of 82 iterations at batch 8), best validated epoch tested',
                  labels='3D labels of S1 only; pre-training on the 2D of S1 S5 S6 S7 S8',
                  configs=dict(scratch=ablation.SCRATCH_S1, crl=ablation.FINETUNE_S1,
                               pretrain=ablation.PRETRAIN))
    out = dict(arms={arm: dict(runs=arms[arm], mpjpe=summary(arms[arm], 'mpjpe'),
                               p_mpjpe=summary(arms[arm], 'p_mpjpe'))
                     for arm in ARMS},
               comparison=cmp, budget=budget, seeds=list(seeds), wall_seconds=wall,
               data='SYNTHETIC (tools/dataset_converters/make_synthetic_h36m.py), test split '
               'S9 S11, millimetres')
    text = table(arms, cmp)
    for d in {work, results_dir}:
        os.makedirs(d, exist_ok=True)
        sr.write_json(osp.join(d, 'low_label.json'), out)
        with open(osp.join(d, 'low_label.md'), 'w') as f:
            f.write('# Low-label study (SYNTHETIC data)\n\n' + text + '\n')
        plot(work, arms, seeds, osp.join(d, 'low_label.png'))
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help=f'seeds (default 0 1 2; about {MIN_PER_SEED} min each on 2 CPU '
                        'cores)')
    parser.add_argument('--work-dir', default='work_dirs/ablation_converged',
                        help='the runs (shared with tools/analysis/ablation.py --mode converged)')
    parser.add_argument('--results-dir', default=osp.join(sr.REPO, 'docs', 'results'),
                        help='where low_label.json/.md/.png are written (default docs/results)')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the runs and their commands, run nothing')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: rebuild the table, json and plot from the runs')
    args = parser.parse_args(argv)
    work = osp.abspath(args.work_dir)
    plan = ablation.build_plan(MODE, list(ARMS))
    if args.dry_run:
        for seed in args.seeds:
            for arm in ARMS:
                p = plan[arm]
                if p['pretrain']:
                    print(f'# seed {seed} {arm}: pre-training, then fine-tuning')
                    print(sr.command_line('train.py', [p['pretrain']['config'], '--seed',
                                                       str(seed), '--cfg-options',
                                                       *p['pretrain']['options']]))
                else:
                    print(f'# seed {seed} {arm}')
                print(sr.command_line('train.py', [p['config'], '--seed', str(seed),
                                                   '--cfg-options', *p['options']]))
        print(f'about {MIN_PER_SEED * len(args.seeds)} min on 2 CPU cores')
        return plan
    start, wall = time.time(), None
    if not args.report_only:
        todo = [(seed, arm) for seed in args.seeds for arm in ARMS]
        for k, (seed, arm) in enumerate(todo, 1):
            print(f'[{k}/{len(todo)}] seed {seed} {arm} ({(time.time() - start) / 60:.1f} min '
                  'elapsed)', flush=True)
            ablation.run_arm(work, MODE, arm, plan[arm], seed, lambda t: print(t, flush=True))
            report(work, args.seeds, args.results_dir, time.time() - start)
        wall = time.time() - start
    text = report(work, args.seeds, args.results_dir, wall)
    print(text)
    return text


if __name__ == '__main__':
    main()
