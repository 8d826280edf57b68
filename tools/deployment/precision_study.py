"""What each inference path costs in accuracy: MPJPE on the synthetic test split, flip test on,
for every path of docs/deployment.md, against fp32.

    .venv/bin/python tools/deployment/precision_study.py [--paths all] [--max-clips N]
        [--config CONFIG] [--checkpoint CKPT] [--out-dir docs/results] [--threads 2]
        [--cfg-options key=value ...]

Each path is one run of ``tools/test.py`` (in this process, :mod:`study_runs`): the same data,
windows, flip test and metrics, with ``--backend`` / ``--precision`` (and the ONNX files
exported here first, by :func:`dualpose.deploy.export_onnx`, for the ONNX Runtime paths). Per
path: MPJPE, P-MPJPE, the change of MPJPE against fp32 (``fp32-sdpa``), and the mean distance
of its predictions from fp32's, joint by joint over every test frame (mm; from the runs'
``--dump`` files). Writes ``<out-dir>/precision.json`` and ``precision.md``.

Default model: the shipped ``demo/checkpoints/dualpose-tiny_synthetic-27f.pth`` with
``configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py`` on ``data/h36m_synthetic``
(``tools/dataset_converters/make_synthetic_h36m.py``). ``--max-clips N`` scores the first N
test clips only (a quick check; the numbers are then not the split's).
"""
import argparse
import os
import os.path as osp
import pickle
import sys
import time

import numpy as np

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))

import study_runs  # noqa: E402

CONFIG = 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py'
CHECKPOINT = 'demo/checkpoints/dualpose-tiny_synthetic-27f.pth'
# path: (backend, precision, extra config options); fp32-sdpa is the reference
PATHS = {
    'fp32-sdpa': ('torch', 'fp32', ['model.backbone.transformer_stream.attn_impl=sdpa']),
    'fp32-fused': ('torch', 'fp32', ['model.backbone.transformer_stream.attn_impl=fused']),
    'fp32-onednn': ('onednn', 'fp32', ['model.backbone.transformer_stream.attn_impl=fused']),
    'bf16': ('torch', 'bf16', []),
    'int8': ('torch', 'int8', []),
    'ort-fp32': ('onnxruntime', 'fp32', []),
    'ort-int8': ('onnxruntime', 'int8', []),
}
REFERENCE = 'fp32-sdpa'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='MPJPE of every inference path against fp32')
    p.add_argument('--paths', nargs='+', choices=list(PATHS) + ['all'], default=['all'],
                   help=f'the paths to score (default all; {REFERENCE} always runs, as the '
                        'reference)')
    p.add_argument('--config', default=CONFIG, help=f'model config (default {CONFIG})')
    p.add_argument('--checkpoint', default=CHECKPOINT, help=f'weights (default {CHECKPOINT})')
    p.add_argument('--max-clips', type=int, default=None,
                   help='score the first N test clips only (a quick check)')
    p.add_argument('--out-dir', default=osp.join(REPO, 'docs', 'results'),
                   help='where precision.json and precision.md go (default docs/results)')
    p.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'precision_study'),
                   help='the runs\' work dirs, dumps and ONNX files')
    p.add_argument('--threads', type=int, default=None, help='torch / ONNX Runtime threads')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='more config settings for every run, e.g. '
                        'test_dataloader.dataset.data_root=DIR')
    return p.parse_args(argv)


def _dumped_predictions(path: str) -> dict:
    """{video: (F, J, 3) mm} of a ``--dump`` file."""
    with open(path, 'rb') as f:
        dumped = pickle.load(f)
    key = 'pred_mm' if all('pred_mm' in v for v in dumped['videos'].values()) else 'pred'
    return {vid: np.asarray(v[key], dtype=np.float64) for vid, v in dumped['videos'].items()}


def deviation_mm(preds: dict, reference: dict) -> float:
    """Mean per-joint distance between two runs' predictions over the frames both have."""
    dists = []
    for vid, ref in reference.items():
        if vid not in preds:
            raise ValueError(f'video {vid!r} of the reference run is missing from another run')
        dists.append(np.linalg.norm(preds[vid] - ref, axis=-1).ravel())
    return float(np.concatenate(dists).mean())


def _export(args, work_dir: str, precision: str, options) -> str:
    from dualpose.apis import init_model
    from dualpose.deploy import export_onnx
    path = osp.join(work_dir, f'model-{precision}.onnx')
    model = init_model(args.config, args.checkpoint,
                       cfg_options=study_runs.parse_options(options) or None)
    export_onnx(model, path, int8=precision == 'int8', checkpoint=args.checkpoint)
    return path


def run_path(args, name: str, work_dir: str, options, onnx_file=None) -> dict:
    backend, precision, extra = PATHS[name]
    run_dir = osp.join(work_dir, name)
    dump = osp.join(run_dir, 'preds.pkl')
    argv = [args.config, args.checkpoint, '--work-dir', run_dir, '--dump', dump,
            '--backend', backend, '--precision', precision]
    if backend == 'onnxruntime':
        argv += ['--onnx-file', onnx_file]
    if options or extra:
        argv += ['--cfg-options', *options, *extra]
    os.makedirs(run_dir, exist_ok=True)
    metrics, secs = study_runs.run_tool('test.py', argv, osp.join(run_dir, 'console.log'))
    from dualpose.deploy import resolve_precision
    ran = precision if backend == 'onnxruntime' else resolve_precision(precision)
    return dict(path=name, backend=backend, precision=precision, precision_run=ran,
                metrics={k: float(v) for k, v in metrics.items()}, test_seconds=secs,
                dump=dump, command=study_runs.command_line('test.py', argv))


def markdown(summary: dict) -> str:
    ref = summary['runs'][REFERENCE]['metrics']['lift/mpjpe']
    lines = [
        '# Accuracy of the inference paths (synthetic test split, flip test)',
        '',
        f'Written by `{summary["command"]}` ({summary["date"]}); config `{summary["config"]}`, '
        f'checkpoint `{summary["checkpoint"]}`, {summary["clips"]}. CPU flags: '
        f'{summary["cpu_flags"]}; native bf16: {summary["native_bf16"]}.',
        '',
        'MPJPE and P-MPJPE against the ground truth; "vs fp32" is the change of MPJPE against '
        f'`{REFERENCE}`; "from fp32" the mean distance of each joint from where `{REFERENCE}` '
        'puts it, over every test frame. Millimetres.',
        '',
        '| path | runs as | MPJPE | vs fp32 | P-MPJPE | from fp32 | test s |',
        '|---|---|---|---|---|---|---|',
    ]
    for name, run in summary['runs'].items():
        m = run['metrics']
        lines.append(f'| {name} | {run["backend"]} {run["precision_run"]} | '
                     f'{m["lift/mpjpe"]:.2f} | {m["lift/mpjpe"] - ref:+.3f} | '
                     f'{m.get("lift/p_mpjpe", float("nan")):.2f} | '
                     f'{run["deviation_from_fp32_mm"]:.3f} | {run["test_seconds"]:.0f} |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    for what, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if not osp.isfile(osp.join(REPO, path) if not osp.isabs(path) else path):
            sys.exit(f'error: {what} {path!r} does not exist')
    if args.max_clips is not None and args.max_clips < 1:
        sys.exit(f'error: --max-clips must be >= 1, got {args.max_clips}')
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    names = list(PATHS) if 'all' in args.paths else [REFERENCE] + [
        p for p in dict.fromkeys(args.paths) if p != REFERENCE]
    options = list(args.cfg_options)
    if args.max_clips:
        options.append(f'test_dataloader.dataset.indices={args.max_clips}')
    from dualpose.utils.cpu_features import cpu_has_native_bf16, describe_cpu_flags
    # the ONNX files first: every test run then logs into its own console.log
    onnx_files = {name: _export(args, args.work_dir, PATHS[name][1], [*options, *PATHS[name][2]])
                  for name in names if PATHS[name][0] == 'onnxruntime'}
    runs = {}
    for name in names:
        run = run_path(args, name, args.work_dir, options, onnx_files.get(name))
        runs[name] = run
        print(f'{name:>10}: MPJPE {run["metrics"]["lift/mpjpe"]:.2f} mm '
              f'({run["backend"]} {run["precision_run"]}, {run["test_seconds"]:.0f} s)',
              flush=True)
    reference = _dumped_predictions(runs[REFERENCE]['dump'])
    for run in runs.values():
        run['deviation_from_fp32_mm'] = deviation_mm(_dumped_predictions(run.pop('dump')),
                                                     reference)
    clips = (f'the first {args.max_clips} test clips only (--max-clips: not the split\'s '
             'numbers)' if args.max_clips else 'every test clip')
    summary = dict(command=' '.join(['.venv/bin/python tools/deployment/precision_study.py',
                                     *argv]),
                   date=time.strftime('%Y-%m-%d'), config=args.config,
                   checkpoint=args.checkpoint, clips=clips, max_clips=args.max_clips,
                   cpu_flags=describe_cpu_flags(), native_bf16=cpu_has_native_bf16(),
                   reference=REFERENCE, runs=runs)
    os.makedirs(args.out_dir, exist_ok=True)
    study_runs.write_json(osp.join(args.out_dir, 'precision.json'), summary)
    from dualpose.utils.fileio import write_text_atomic
    text = markdown(summary)
    write_text_atomic(osp.join(args.out_dir, 'precision.md'), text)
    print(text)
    return summary


if __name__ == '__main__':
    main()
