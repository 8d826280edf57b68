"""Evaluate a checkpoint on a config's test split.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump results.pkl]
                         [--cfg-options key=value ...] [--launcher pytorch]
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dualpose.utils.compat import (cpu_model_wrapper_cfg,  # noqa: E402
                                   init_cpu_distributed)
from dualpose.utils.setup_env import check_data_files  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a dualpose model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation log')
    parser.add_argument('--dump', type=str,
                        help='dump the predictions (data samples as dicts) to this .pkl file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg.load_from = args.checkpoint
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must name a .pkl file, got {args.dump!r}')
        evaluators = cfg.test_evaluator
        evaluators = list(evaluators) if isinstance(evaluators, (list, tuple)) else [evaluators]
        evaluators.append(dict(type='DumpResults', out_file_path=args.dump))
        cfg.test_evaluator = evaluators
    if init_cpu_distributed(args.launcher):
        cfg.env_cfg.dist_cfg = dict(backend='gloo')
        cfg.model_wrapper_cfg = cpu_model_wrapper_cfg()
    try:
        check_data_files(cfg, ('test_dataloader',), config_path=args.config)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        write_metrics(metrics, osp.join(runner.log_dir, 'test_metrics.json'))
    return metrics


def write_metrics(metrics, path):
    """Write the metrics as json, atomically (a temporary file renamed into place)."""
    import json
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({k: float(v) for k, v in metrics.items()}, f, indent=1)
    os.replace(tmp, path)
    print(f'metrics written to {path}')


if __name__ == '__main__':
    main()
