"""Train a model from a config with the mmengine Runner.

    .venv/bin/python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--seed N] [--deterministic]
                                 [--cfg-options key=value ...] [--launcher pytorch|slurm]

``--resume`` alone (or ``--resume auto``) continues from the latest readable checkpoint in the
work dir, with optimizer, scheduler, EMA teacher, random states and data position restored.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dualpose.apis.setup_env import (add_common_args, build_runner,  # noqa: E402
                                     check_data_or_exit, load_config)
from dualpose.utils.compat import finish_distributed  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a dualpose model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; with no value, from the latest checkpoint in the '
        'work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: float16 AMP on CUDA, bfloat16 autocast on CPU')
    parser.add_argument('--seed', type=int, help='random seed (default: the config\'s)')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms only (torch.use_deterministic_algorithms); '
                        'two runs with the same seed then give identical weights')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    if args.amp:
        import torch
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            cfg.optim_wrapper.type = 'AutocastOptimWrapper'
            from dualpose.utils.cpu_features import cpu_has_native_bf16
            if not cpu_has_native_bf16():
                print('warning: --amp on a CPU without native bfloat16 (no avx512_bf16 or '
                      'amx_bf16 in /proc/cpuinfo): bf16 is emulated, about 4x slower per '
                      'iteration than float32 on such a CPU; leave --amp off here',
                      file=sys.stderr)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    cfg.setdefault('randomness', dict(seed=None))
    if args.seed is not None:
        cfg.randomness.seed = args.seed
    if args.deterministic:
        cfg.randomness.deterministic = True
    if cfg.get('randomness', {}).get('deterministic'):
        # cuBLAS needs a fixed workspace for deterministic matmuls (no effect on CPU)
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    check_data_or_exit(cfg, ('train_dataloader', 'val_dataloader'), args.config)
    runner = build_runner(cfg)
    runner.train()
    finish_distributed()  # ranks leave together (see dualpose.utils.compat)


if __name__ == '__main__':
    main()
