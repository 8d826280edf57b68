"""Parameters and MACs per clip and per frame of a config's model, counted two ways.

    .venv/bin/python tools/analysis/get_flops.py CONFIG [--seq-len T] [--cfg-options k=v ...] [--json F]

``linear``: nn.Linear layers only (thop's convention). ``every matmul``: every matrix product
of the forward pass (linear layers, attention, graph aggregation, k-NN similarity), counted
with torch's FlopCounterMode. Say which count whenever you quote one. The same numbers come
from Python: ``from dualpose.apis.complexity import count_macs; count_macs(cfg, seq_len)``.
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from dualpose.apis.complexity import count_macs  # noqa: E402
from dualpose.utils.config import read_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Count parameters and MACs of a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--seq-len', type=int, default=None,
                        help='frames per clip T (default: the config\'s seq_len)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. model.backbone.arch=xs')
    parser.add_argument('--json', help='also write the counts to this json file')
    return parser.parse_args(argv)


def format_report(res: dict, config: str = '') -> str:
    g = 1e9
    t = res['seq_len']
    kinds = res['matmul_by_kind']
    lines = [
        f'config      : {config}',
        f'input       : (1, T={t}, J={res["num_joints"]}, C)',
        f'parameters  : {res["params"] / 1e6:.3f} M',
        '',
        f'{"count":<38}{"GMACs/clip":>12}{"MMACs/frame":>14}',
        f'{"linear layers only (thop convention)":<38}{res["linear_macs"] / g:>12.2f}'
        f'{res["linear_macs_per_frame"] / 1e6:>14.1f}',
        f'{"every matmul (FlopCounterMode)":<38}{res["matmul_macs"] / g:>12.2f}'
        f'{res["matmul_macs_per_frame"] / 1e6:>14.1f}',
    ]
    for kind in ('linear', 'attention', 'graph', 'other'):
        lines.append(f'{"  of which " + kind:<38}{kinds[kind] / g:>12.2f}'
                     f'{kinds[kind] / t / 1e6:>14.1f}')
    lines.append('(1 MAC = one multiply-add = 2 FLOPs; element-wise ops are in neither count)')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'error: config {args.config!r} does not exist')
    cfg = read_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    res = count_macs(cfg, seq_len=args.seq_len)
    print(format_report(res, args.config))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(res, config=args.config), f, indent=1)
        print(f'written to {args.json}')
    return res


if __name__ == '__main__':
    main()
