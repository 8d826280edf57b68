"""Train a model from a config with the mmengine Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options key=value ...] [--launcher pytorch]
"""
import argparse
import os.path as osp
import sys

from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dualpose.utils.setup_env import (add_common_args, check_data_or_exit,  # noqa: E402
                                      load_config)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a dualpose model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; with no value, from the latest checkpoint in the '
        'work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: float16 AMP on CUDA, bfloat16 autocast on CPU')
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
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    check_data_or_exit(cfg, ('train_dataloader', 'val_dataloader'), args.config)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
