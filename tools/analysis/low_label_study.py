"""Low-label study of CRL pre-training on the SYNTHETIC data (the paper's claim, small scale).

For each seed: pre-train on the 2D of all training subjects, fine-tune with the 3D labels of S1
only; against the same fine-tuning from scratch (same iterations, same seed). Both arms are
scored once on the test split. Writes ``results.md`` and ``results.json`` to the work dir and
prints the table, plus the wall time of one pre-training vs one fine-tuning iteration.

    .venv/bin/python tools/analysis/low_label_study.py [--seeds 0 1 2] [--work-dir work_dirs/low_label]
"""
import argparse
import os
import os.path as osp
import statistics
import sys

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
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/low_label')
    args = parser.parse_args(argv)
    work = osp.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    rows = {arm: [] for arm in ARMS}
    secs = {arm: [] for arm in ('pretrain', *ARMS)}
    for seed in args.seeds:
        pre_dir = osp.join(work, f'pretrain_s{seed}')
        secs['pretrain'].append(train(PRETRAIN, pre_dir, seed=seed))
        for arm, config in ARMS.items():
            opts = []
            if arm == 'crl':
                opts.append(f'model.backbone.init_cfg.checkpoint={last_checkpoint(pre_dir)}')
            res = train_and_test(config, osp.join(work, f'{arm}_s{seed}'), opts, seed=seed,
                                 checkpoint='last')
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
