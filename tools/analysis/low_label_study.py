"""Low-label study of CRL pre-training on the SYNTHETIC data (the paper's claim, small scale).

For each seed: pre-train on the 2D of all training subjects, fine-tune with the 3D labels of S1
only; against the same fine-tuning from scratch (same iterations, same seed). Both arms are
scored once on the test split. Writes ``results.md`` and ``results.json`` to the work dir and
prints the table, plus the wall time of one pre-training vs one fine-tuning iteration.

    .venv/bin/python tools/analysis/low_label_study.py [--seeds 0 1 2] [--work-dir work_dirs/low_label]
    .venv/bin/python tools/analysis/low_label_study.py --dry-run     # the runs it would make

Three trainings per seed (pre-training, then the two fine-tuning arms); 59 min for the three
seeds on 2 CPU cores (docs/pretraining.md), about 20 min per seed. Each run's console goes to
its work dir's console.log; this script prints a line when each run starts (with the time
left, estimated from the runs so far) and ends, and every 30 s the running training's
iteration and ETA.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from study_runs import (METRICS, config_with, last_checkpoint, mean_std,  # noqa: E402
                        step_seconds, summarize, train, train_and_test, write_json)

SYN = 'configs/dualpose/synthetic/'
PRETRAIN = SYN + 'dualpose-tiny-crl-pretrain_synthetic-27f.py'
ARMS = {'scratch': SYN + 'dualpose-tiny_synthetic-s1-27f.py',
        'crl': SYN + 'dualpose-tiny-crl-finetune_synthetic-s1-27f.py'}


def time_iterations(batch_size=32, repeats=10):
    """Median seconds of one optimisation step of each config's model at the same batch."""
    return {name: step_seconds(config_with(config), batch_size, repeats)
            for name, config in (('pretrain', PRETRAIN), ('finetune', ARMS['scratch']))}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0] + ' About 20 min per seed on 2 CPU cores.')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='seeds; three trainings each (default 0 1 2: about 59 min)')
    parser.add_argument('--work-dir', default='work_dirs/low_label',
                        help='where the runs and results.md/results.json go')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the runs and their configs, run nothing')
    args = parser.parse_args(argv)
    work = osp.abspath(args.work_dir)
    plan = [(seed, what) for seed in args.seeds for what in ('pretrain', *ARMS)]
    if args.dry_run:
        for k, (seed, what) in enumerate(plan, 1):
            config = PRETRAIN if what == 'pretrain' else ARMS[what]
            print(f'[{k}/{len(plan)}] seed {seed} {what}: {config} -> '
                  f'{osp.join(work, f"{what}_s{seed}")}')
        print(f'{len(plan)} trainings, about {20 * len(args.seeds)} min on 2 CPU cores')
        return None
    start, done = time.time(), 0

    def announce(seed, what):
        elapsed = time.time() - start
        left = (f'about {elapsed / done * (len(plan) - done) / 60:.0f} min left' if done
                else f'about {20 * len(args.seeds)} min in all on 2 CPU cores')
        print(f'[{done + 1}/{len(plan)}] seed {seed} {what}: training '
              f'({elapsed / 60:.1f} min elapsed, {left})', flush=True)
    os.makedirs(work, exist_ok=True)
    rows = {arm: [] for arm in ARMS}
    secs = {arm: [] for arm in ('pretrain', *ARMS)}
    for seed in args.seeds:
        pre_dir = osp.join(work, f'pretrain_s{seed}')
        announce(seed, 'pretrain')
        secs['pretrain'].append(train(PRETRAIN, pre_dir, seed=seed))
        done += 1
        for arm, config in ARMS.items():
            opts = []
            if arm == 'crl':
                opts.append(f'model.backbone.init_cfg.checkpoint={last_checkpoint(pre_dir)}')
            announce(seed, arm)
            res = train_and_test(config, osp.join(work, f'{arm}_s{seed}'), opts, seed=seed,
                                 checkpoint='last')
            done += 1
            rows[arm].append(res['metrics'])
            secs[arm].append(res['train_seconds'])
            print(f'seed {seed} {arm}: '
                  + ', '.join(f'{m} {res["metrics"][m]:.2f}' for m in METRICS), flush=True)
    its = time_iterations()
    lines = ['| arm | ' + ' | '.join(f'{m.split("/")[1]} (mm)' for m in METRICS) + ' |',
             '|---|' + '---|' * len(METRICS)]
    summary = {arm: {m: summarize([r[m] for r in rows[arm]]) for m in METRICS} for arm in ARMS}
    for arm in ARMS:
        lines.append(f'| {arm} | ' + ' | '.join(mean_std(summary[arm][m]) for m in METRICS)
                     + ' |')
    lines.append('')
    lines.append(f'seeds: {args.seeds}; mean ± sample std. Wall seconds (train): '
                 + ', '.join(f'{k} {statistics.mean(v):.0f}' for k, v in secs.items()))
    lines.append(f'one optimisation step at batch 32: pre-training {its["pretrain"]:.3f} s, '
                 f'fine-tuning {its["finetune"]:.3f} s')
    table = '\n'.join(lines)
    with open(osp.join(work, 'results.md'), 'w') as f:
        f.write(table + '\n')
    write_json(osp.join(work, 'results.json'),
               dict(summary=summary, seconds=secs, iteration_seconds=its))
    print(table)


if __name__ == '__main__':
    main()
