"""Low-label study of CRL pre-training on the SYNTHETIC data (the paper's claim, small scale).

For each seed: pre-train on the 2D of all training subjects, fine-tune with the 3D labels of S1
only; against the same fine-tuning from scratch (same iterations, same seed). Both arms are
scored once on the test split. Writes ``results.md`` and ``results.json`` to the work dir and
prints the table, plus the wall time of one pre-training vs one fine-tuning iteration.

    python tools/analysis/low_label_study.py [--seeds 0 1 2] [--work-dir work_dirs/low_label]
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SYN = 'configs/dualpose/synthetic/'
PRETRAIN = SYN + 'crl-pretrain-tiny_synthetic-27f.py'
ARMS = {'scratch': SYN + 'scratch-s1-tiny_synthetic-27f.py',
        'crl': SYN + 'crl-finetune-s1-tiny_synthetic-27f.py'}
METRICS = ('lift/mpjpe', 'lift/p_mpjpe', 'lift/mpjve')


def run(tool, args):
    cmd = [sys.executable, osp.join(REPO, 'tools', tool), *args]
    print('$', ' '.join(cmd), flush=True)
    start = time.time()
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f'failed ({res.returncode}): {" ".join(cmd)}\n{res.stderr[-4000:]}')
    return time.time() - start


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def train_and_test(config, work_dir, options):
    secs = run('train.py', [config, '--work-dir', work_dir, '--cfg-options', *options])
    run('test.py', [config, last_checkpoint(work_dir), '--work-dir', work_dir,
                    '--cfg-options', *options])
    latest = sorted(glob.glob(osp.join(work_dir, '*', 'test_metrics.json')))[-1]
    with open(latest) as f:
        return json.load(f), secs


def time_iterations(batch_size=32, repeats=10):
    """Median seconds of one optimisation step of each config's model at the same batch."""
    import torch
    from mmengine import Config
    from mmengine.dataset import pseudo_collate

    from dualpose.registry import DATASETS, MODELS
    from dualpose.utils import register_all_modules
    register_all_modules()
    out = {}
    for name, config in (('pretrain', PRETRAIN), ('finetune', ARMS['scratch'])):
        cfg = Config.fromfile(osp.join(REPO, config))
        ds_cfg = cfg.train_dataloader.dataset
        ds_cfg.data_root = osp.join(REPO, ds_cfg.data_root)
        ds = DATASETS.build(ds_cfg)
        model = MODELS.build(cfg.model).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        data = model.data_preprocessor(pseudo_collate([ds[i] for i in range(batch_size)]), True)
        times = []
        for i in range(repeats + 2):
            t0 = time.perf_counter()
            losses = model(**data, mode='loss')
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i >= 2:
                times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/low_label')
    args = parser.parse_args()
    work = osp.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    rows = {arm: [] for arm in ARMS}
    secs = {arm: [] for arm in ('pretrain', *ARMS)}
    for seed in args.seeds:
        seed_opt = [f'randomness.seed={seed}']
        pre_dir = osp.join(work, f'pretrain_s{seed}')
        secs['pretrain'].append(run('train.py', [PRETRAIN, '--work-dir', pre_dir,
                                                 '--cfg-options', *seed_opt]))
        for arm, config in ARMS.items():
            opts = list(seed_opt)
            if arm == 'crl':
                opts.append(f'model.backbone.init_cfg.checkpoint={last_checkpoint(pre_dir)}')
            metrics, s = train_and_test(config, osp.join(work, f'{arm}_s{seed}'), opts)
            rows[arm].append(metrics)
            secs[arm].append(s)
            print(f'seed {seed} {arm}: ' + ', '.join(f'{m} {metrics[m]:.2f}' for m in METRICS),
                  flush=True)
    its = time_iterations()
    lines = ['| arm | ' + ' | '.join(f'{m.split("/")[1]} (mm)' for m in METRICS) + ' |',
             '|---|' + '---|' * len(METRICS)]
    summary = {}
    for arm in ARMS:
        cells = []
        for m in METRICS:
            vals = [r[m] for r in rows[arm]]
            mean = statistics.mean(vals)
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            summary.setdefault(arm, {})[m] = dict(mean=mean, std=sd, values=vals)
            cells.append(f'{mean:.2f} ± {sd:.2f}')
        lines.append(f'| {arm} | ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append(f'seeds: {args.seeds}; mean ± sample std. Wall seconds (train): '
                 + ', '.join(f'{k} {statistics.mean(v):.0f}' for k, v in secs.items()))
    lines.append(f'one optimisation step at batch 32: pre-training {its["pretrain"]:.3f} s, '
                 f'fine-tuning {its["finetune"]:.3f} s')
    table = '\n'.join(lines)
    with open(osp.join(work, 'results.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(work, 'results.json'), 'w') as f:
        json.dump(dict(summary=summary, seconds=secs, iteration_seconds=its), f, indent=1)
    print(table)


if __name__ == '__main__':
    main()
