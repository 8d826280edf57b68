"""Evaluate a checkpoint on a config's test split.

    .venv/bin/python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump results.pkl]
                         [--show-dir DIR [--show-max N]]
                         [--backend torch|onednn|onnxruntime [--onnx-file FILE]]
                         [--precision fp32|bf16|int8]
                         [--cfg-options key=value ...] [--launcher pytorch]

Prints the per-action table and writes the metrics to <work-dir>/<timestamp>/test_metrics.json.
With --show-dir, pictures of a sample of test clips (2D input, predicted and ground-truth 3D
side by side) are saved there as PNG files.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dualpose.apis.setup_env import (add_common_args, build_runner,  # noqa: E402
                                     check_data_or_exit, load_config)
from dualpose.deploy.backends import BACKENDS  # noqa: E402
from dualpose.utils.compat import finish_distributed  # noqa: E402
from dualpose.utils.fileio import atomic_open, check_writable  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a dualpose model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--dump', type=str,
                        help='dump the predictions to this .pkl file: per video, each frame '
                        'once (layout: docs/datasets.md, "Dumped predictions")')
    parser.add_argument('--show-dir', type=str,
                        help='save pictures of a sample of test clips (2D input, predicted '
                        'and ground-truth 3D) to this folder')
    parser.add_argument('--show-max', type=int, default=16,
                        help='how many clips --show-dir draws, spread over the test set (16)')
    parser.add_argument('--backend', choices=list(BACKENDS), default='torch',
                        help='compute the backbone and heads in torch (default), in torch with '
                        'oneDNN\'s prepacked linear layers (onednn, fp32) or with ONNX Runtime '
                        '(the same data, flip test and metrics; docs/deployment.md)')
    parser.add_argument('--onnx-file',
                        help='--backend onnxruntime: the export of tools/deployment/'
                        'export_onnx.py (checked against the config and checkpoint); default: '
                        'exported once into $DUALPOSE_ONNX_CACHE')
    parser.add_argument('--precision', choices=['fp32', 'bf16', 'int8'], default='fp32',
                        help='fp32 (default); bf16 autocast (torch, where the CPU has native '
                        'bf16; else fp32, logged); int8 dynamic quantisation of the linear '
                        'layers (torch, or with --backend onnxruntime an --int8 export)')
    add_common_args(parser)
    return parser.parse_args(argv)


def write_metrics(metrics, path):
    """Write the metrics as json, atomically (a temporary file renamed into place)."""
    with atomic_open(path, 'w') as f:
        json.dump({k: float(v) for k, v in metrics.items()}, f, indent=1)
    print(f'metrics written to {path}')


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    if osp.isdir(args.checkpoint):
        sys.exit(f'error: checkpoint {args.checkpoint!r} is a directory, not a checkpoint '
                 'file (.pth)')
    if not osp.isfile(args.checkpoint):
        sys.exit(f'error: checkpoint {args.checkpoint!r} does not exist')
    cfg.load_from = args.checkpoint
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            sys.exit(f'error: --dump must name a .pkl file, got {args.dump!r}')
        try:   # before the test run, not after it
            check_writable(args.dump, '--dump file')
        except OSError as err:
            sys.exit(f'error: {err}')
        evaluators = cfg.test_evaluator
        evaluators = list(evaluators) if isinstance(evaluators, (list, tuple)) else [evaluators]
        evaluators.append(dict(type='DumpLiftingResults', out_file_path=args.dump))
        cfg.test_evaluator = evaluators
    if args.show_dir is not None:
        if args.show_max < 1:
            sys.exit(f'error: --show-max must be >= 1, got {args.show_max}')
        if osp.exists(args.show_dir) and not osp.isdir(args.show_dir):
            sys.exit(f'error: --show-dir {args.show_dir!r} is a file, not a folder')
        try:   # before the test run, not after it
            check_writable(osp.join(args.show_dir, 'probe.png'), '--show-dir picture')
        except OSError as err:
            sys.exit(f'error: {err}')
        cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [dict(
            type='LiftingVisualizationHook', out_dir=args.show_dir, max_samples=args.show_max)]
    if args.onnx_file is not None:
        if args.backend != 'onnxruntime':
            sys.exit('error: --onnx-file is read by --backend onnxruntime')
        if not osp.isfile(args.onnx_file):
            sys.exit(f'error: --onnx-file {args.onnx_file!r} does not exist')
    if args.backend == 'onednn' and args.precision != 'fp32':
        sys.exit(f'error: --backend onednn runs fp32; --precision {args.precision} runs with '
                 '--backend torch')
    if args.backend == 'onnxruntime' and args.precision == 'bf16':
        sys.exit("error: --precision bf16 runs in torch (autocast); ONNX Runtime runs fp32 or "
                 'int8')
    if args.backend != 'torch' or args.precision != 'fp32':
        cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [dict(
            type='DeployBackendHook', backend=args.backend, precision=args.precision,
            onnx_file=args.onnx_file)]
    check_data_or_exit(cfg, ('test_dataloader', ), args.config)
    runner = build_runner(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        write_metrics(metrics, osp.join(runner.log_dir, 'test_metrics.json'))
    finish_distributed()  # ranks leave together (see dualpose.utils.compat)
    return metrics


if __name__ == '__main__':
    main()
