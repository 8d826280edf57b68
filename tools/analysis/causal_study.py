"""What live lifting costs in accuracy: the causal model against its non-causal twin.

Every arm is the embedded default's model trained with the same budget, data and seeds; the
causal arm (``dualpose-tiny-causal_synthetic-27f``) looks at the last 27 frames only (no
look-ahead), its 'causal-L3' twin (``dualpose-tiny-causal-lookahead3_synthetic-27f``) also at
the 3 frames after the one it estimates, the non-causal arm at the whole 27-frame window. Each
run is scored once on the test split (S9, S11) with flip test: the non-causal arm on 27-frame
windows as usual, the causal arms on whole videos (their config's ``whole_videos=True``), which equals lifting them live frame by
frame (the look-ahead arm: with the stream's end flushed).

    python tools/analysis/causal_study.py [--seeds 0 1 2] [--budget small|default]
        [--work-dir work_dirs/causal_study] [--out docs/results/causal.json]

Every run writes ``runs/<arm>_s<seed>.json``; a run whose json holds the same settings is
skipped when the command is repeated (the study resumes where it stopped). The table goes to
standard output and ``results.md``; the numbers to ``--out``.
"""
import argparse
import os
import os.path as osp
import shutil
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
for path in (HERE, REPO):
    if path not in sys.path:
        sys.path.insert(0, path)

import study_runs as sr  # noqa: E402

from dualpose.utils.table import format_table  # noqa: E402

SYN = 'configs/dualpose/synthetic/'
ARMS = {'non-causal': SYN + 'dualpose-tiny_synthetic-27f.py',
        'causal': SYN + 'dualpose-tiny-causal_synthetic-27f.py',
        'causal-L3': SYN + 'dualpose-tiny-causal-lookahead3_synthetic-27f.py'}
# 'default': the shipped config's own schedule; 'small': a narrower model and fewer clips,
# sized so that both arms x 3 seeds fit in about half an hour on 2 CPU cores
BUDGETS = {
    'default': [],
    'small': ['model.backbone.arch.embed_dims=32', 'model.backbone.arch.depth=4',
              'train_cfg.max_epochs=3', 'param_scheduler.0.end=3',
              'train_dataloader.dataset.stride=27'],
}


def run_arm(work: str, arm: str, seed: int, options, log) -> dict:
    spec = dict(config=ARMS[arm], options=list(options), seed=seed)
    path = osp.join(work, 'runs', f'{arm}_s{seed}.json')
    done = sr.read_json(path)
    if done and done.get('spec') == spec and 'metrics' in done:
        log(f'{arm} seed {seed}: done before, skipped')
        return done
    run_dir = osp.join(work, 'train', f'{arm}_s{seed}')
    shutil.rmtree(run_dir, ignore_errors=True)
    record = dict(arm=arm, seed=seed, spec=spec,
                  **sr.train_and_test(ARMS[arm], run_dir, list(options), seed))
    sr.write_json(path, record)
    log(f'{arm} seed {seed}: ' + ', '.join(f'{sr.metric_name(k)} {record["metrics"][k]:.2f}'
                                           for k in sr.METRICS)
        + f' ({record["train_seconds"]:.0f} s train)')
    return record


def paired_differences(records: dict) -> dict:
    """arm -> the per-seed differences of its MPJPE from the non-causal arm's (same seed, so
    same initialisation and data order), summarised: the seed-to-seed spread of the arms
    themselves cancels out of them."""
    base = {r['seed']: r['metrics']['lift/mpjpe'] for r in records.get('non-causal', [])}
    out = {}
    for arm, rs in records.items():
        if arm == 'non-causal':
            continue
        diffs = [r['metrics']['lift/mpjpe'] - base[r['seed']] for r in rs if r['seed'] in base]
        if diffs:
            out[arm] = sr.summarize(diffs)
    return out


def table(summary: dict, paired: dict) -> str:
    rows = []
    for arm, s in summary.items():
        rows.append([arm] + [sr.mean_std(s[k]) for k in sr.METRICS] + [s[sr.METRICS[0]]['n']])
    for arm, d in paired.items():
        se = d['std'] / d['n'] ** 0.5 if d['n'] > 1 else float('nan')
        rows.append([f'{arm} - non-causal (paired by seed)',
                     f'{d["mean"]:+.2f} ± {d["std"]:.2f} (s.e. {se:.2f})', '', '', d['n']])
    return format_table(rows, ['arm'] + [f'{sr.metric_name(k)} (mm)' for k in sr.METRICS]
                        + ['seeds'], style='markdown')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--arms', nargs='+', choices=list(ARMS), default=list(ARMS))
    parser.add_argument('--budget', choices=sorted(BUDGETS), default='small')
    parser.add_argument('--work-dir', default='work_dirs/causal_study')
    parser.add_argument('--out', default=None, help='write the numbers as json here too')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='more overrides for every run (e.g. another data location)')
    args = parser.parse_args(argv)
    work = osp.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    options = BUDGETS[args.budget] + list(args.cfg_options)
    records = {arm: [] for arm in args.arms}
    for seed in args.seeds:
        for arm in args.arms:
            records[arm].append(run_arm(work, arm, seed, options, lambda t: print(t, flush=True)))
    summary = {arm: {k: sr.summarize([r['metrics'][k] for r in rs]) for k in sr.METRICS}
               for arm, rs in records.items()}
    paired = paired_differences(records)
    text = table(summary, paired)
    with open(osp.join(work, 'results.md'), 'w') as f:
        f.write(text + '\n')
    result = dict(arms={arm: dict(runs=[dict(seed=r['seed'], **{k.split('/')[1]: r['metrics'][k]
                                                                for k in sr.METRICS})
                                        for r in rs], summary=summary[arm])
                        for arm, rs in records.items()},
                  paired_mpjpe_difference=paired,
                  budget=dict(name=args.budget, options=options, seeds=args.seeds))
    sr.write_json(osp.join(work, 'results.json'), result)
    if args.out:
        sr.write_json(args.out, result)
    print(text)
    return result


if __name__ == '__main__':
    main()
