"""The transfer protocol: how well a model trained on the synthetic data carries over to motion
and cameras it has never seen (the proxy for real people and real cameras).

- **Leave one family out.** For each movement family F of generator v2, a model is trained on
  the other five (transitions included, F never appears) and tested on F (test subjects S9 and
  S11, their real cameras). The same model and budget trained on generator v1 (seven scripted
  actions, invented cameras) is tested on the same F test sets: the before/after of v2.
- **Unseen cameras.** A model trained on all six families (the subjects' real cameras) is tested
  on the test recordings filmed once by the real cameras and once by random cameras never used
  in training (height, distance, pitch, roll, focal length, image size and aspect, off-centre).

One command prints the table (millimetres, flip test, every test frame once, mean over the test
recordings' actions)::

    .venv/bin/python tools/analysis/transfer_study.py                       # ~45 min on 2 cores
    .venv/bin/python tools/analysis/transfer_study.py --families floor jump --epochs 1   # a quick look

Runs resume: each finished run's result is kept in ``<work-dir>/results/``, a killed training
continues from its last checkpoint. Data go to ``<work-dir>/data/``.
"""
import argparse
import os
import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
for path in (HERE, REPO):
    if path not in sys.path:
        sys.path.insert(0, path)

import study_runs  # noqa: E402

from dualpose.utils.table import format_table  # noqa: E402

CONFIG = 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py'
METRICS = ('lift/mpjpe', 'lift/p_mpjpe')


def parse_args(argv=None):
    from dualpose.datasets.synthetic import FAMILY_NAMES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/transfer_study',
                        help='data, runs and the table (default: %(default)s)')
    parser.add_argument('--families', nargs='+', default=list(FAMILY_NAMES),
                        choices=list(FAMILY_NAMES), help='families to leave out (default: all)')
    parser.add_argument('--epochs', type=int, default=3, help='epochs per run (default: 3)')
    parser.add_argument('--embed-dims', type=int, default=32,
                        help='model width of every run (default: 32, depth 4)')
    parser.add_argument('--recordings', type=int, default=2,
                        help='v2 training recordings per subject and family (default 2: about '
                             'as many frames as generator v1 writes)')
    parser.add_argument('--test-recordings', type=int, default=4,
                        help='test recordings per subject and family (default 4)')
    parser.add_argument('--seed', type=int, default=0, help='data and training seed')
    parser.add_argument('--no-unseen-cameras', action='store_true',
                        help='skip the unseen-camera runs')
    return parser.parse_args(argv)


def make_data(path: str, **kwargs) -> str:
    from dualpose.datasets.synthetic import write_synthetic_h36m
    if not osp.exists(path):
        summary = write_synthetic_h36m(path, **kwargs)
        print(f"  data {osp.basename(path)}: {summary['frames']['train']} train / "
              f"{summary['frames']['test']} test frames ({summary['size_mb']:.0f} MB)",
              flush=True)
    return path


def data_options(train_file: str, test_file: str):
    """``--cfg-options`` pointing the train/val loaders at one pickle, the test at another."""
    opts = []
    for key, path in (('train_dataloader', train_file), ('val_dataloader', train_file),
                      ('test_dataloader', test_file)):
        opts += [f'{key}.dataset.data_root={osp.dirname(path)}/',
                 f'{key}.dataset.ann_file={osp.basename(path)}']
    return opts


def run(work: str, name: str, train_file: str, tests: dict, options, seed: int) -> dict:
    """Train on ``train_file`` (resuming a killed run), test on each of ``tests``
    ({label: pickle}); results cached in ``<work>/results/<name>.json``."""
    out = osp.join(work, 'results', f'{name}.json')
    done = study_runs.read_json(out) or {}
    run_dir = osp.join(work, 'runs', name)
    if any(label not in done for label in tests):
        ckpt = None
        if not osp.exists(osp.join(run_dir, 'done')):
            resume = osp.exists(osp.join(run_dir, 'last_checkpoint'))
            args = [CONFIG, '--work-dir', run_dir, '--seed', str(seed)]
            args += ['--resume'] if resume else []
            args += ['--cfg-options', *options, *data_options(train_file, train_file)]
            _, secs = study_runs.run_tool('train.py', args, osp.join(run_dir, 'console.log'))
            study_runs.write_json(osp.join(run_dir, 'done'), dict(seconds=secs))
            print(f'  {name}: trained in {secs / 60:.1f} min', flush=True)
        ckpt = study_runs.best_checkpoint(run_dir)
        for label, test_file in tests.items():
            if label in done:
                continue
            metrics, _ = study_runs.test(CONFIG, ckpt, run_dir,
                                         [*options, *data_options(train_file, test_file)])
            done[label] = {k: metrics[k] for k in METRICS}
            study_runs.write_json(out, done)
            print(f"  {name} on {label}: MPJPE {done[label]['lift/mpjpe']:.1f} mm", flush=True)
    return done


def table(families, lofo, v1, cams) -> str:
    def cell(d):
        return f"{d['lift/mpjpe']:.1f} / {d['lift/p_mpjpe']:.1f}" if d else '-'
    found = [(f, v1.get(f), lofo.get(f, {}).get(f)) for f in families]
    rows = [[f, cell(a), cell(b)] for f, a, b in found]
    done = [(a, b) for _, a, b in found if a and b]
    if done:
        mean = {k: sum(x[k] for x, _ in done) / len(done) for k in METRICS}
        mean2 = {k: sum(y[k] for _, y in done) / len(done) for k in METRICS}
        rows.append(['**mean**', cell(mean), cell(mean2)])
    text = format_table(rows, [
        'held-out family', 'trained on v1 (all 7 scripted actions): MPJPE / P-MPJPE',
        'trained on v2 without the family: MPJPE / P-MPJPE'], style='markdown')
    if cams:
        text += '\n\n' + format_table([[label, cell(d)] for label, d in cams.items()],
                                      ['v2 model (all families) tested on', 'MPJPE / P-MPJPE'],
                                      style='markdown')
    return text


def main(argv=None) -> int:
    args = parse_args(argv)
    from dualpose.datasets.synthetic import FAMILY_NAMES
    work = osp.abspath(args.work_dir)
    data = osp.join(work, 'data')
    os.makedirs(data, exist_ok=True)
    options = [f'train_cfg.max_epochs={args.epochs}',
               f'model.backbone.arch.embed_dims={args.embed_dims}',
               f'param_scheduler.0.end={args.epochs}']
    size = dict(recordings=args.recordings, test_recordings=args.test_recordings,
                seed=args.seed)
    print('data:', flush=True)
    lofo_files = {f: make_data(osp.join(data, f'lofo_{f}.pkl'),
                               families=[g for g in FAMILY_NAMES if g != f],
                               test_families=[f], **size) for f in args.families}
    v1_file = make_data(osp.join(data, 'v1.pkl'), generator='v1', seed=args.seed)
    print('runs:', flush=True)
    lofo = {f: run(work, f'v2_without_{f}', path, {f: path}, options, args.seed)
            for f, path in lofo_files.items()}
    v1 = run(work, 'v1', v1_file, dict(lofo_files), options, args.seed)
    cams = {}
    if not args.no_unseen_cameras:
        seen = make_data(osp.join(data, 'all_h36m_cameras.pkl'), **size)
        unseen = make_data(osp.join(data, 'all_unseen_cameras.pkl'), test_cameras='random',
                           **size)
        res = run(work, 'v2_all', seen, {'test subjects, their real H36M cameras': seen,
                                         'test subjects, random unseen cameras': unseen},
                  options, args.seed)
        cams = dict(res)
    text = table(args.families, lofo, v1, cams)
    header = (f'Transfer protocol: C {args.embed_dims} N 4 T 27, {args.epochs} epochs per run, '
              f'flip test, mm; v2 data with {args.recordings} training recordings per subject '
              'and family.\n\n')
    study_runs.write_json(osp.join(work, 'transfer.json'), dict(lofo=lofo, v1=v1, cameras=cams,
                                                                args=vars(args)))
    from dualpose.utils.fileio import write_atomic
    write_atomic(osp.join(work, 'transfer.md'), header + text + '\n')
    print('\n' + header + text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
