"""Print the fully resolved config (bases merged, overrides applied).

    .venv/bin/python tools/misc/print_config.py CONFIG [--cfg-options key=value ...] [--save-path out.py]
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from dualpose.utils.config import read_config  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description='Print the fully resolved config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. model.backbone.arch=xs')
    parser.add_argument('--save-path', help='also write the resolved config to this .py file')
    args = parser.parse_args(argv)
    cfg = read_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    print(f'Config ({args.config}):\n{cfg.pretty_text}')
    if args.save_path:
        cfg.dump(args.save_path)
        print(f'saved to {args.save_path}')


if __name__ == '__main__':
    main()
