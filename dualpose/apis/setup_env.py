"""Set-up shared by the entry points: registering every component, and the command-line
glue of ``tools/train.py``, ``tools/test.py`` and the other tools (common options, the config
with those options applied, the runner, a clear exit for missing data).

It sits in ``apis`` because it imports every other layer; the config loader itself is
:func:`dualpose.utils.config.read_config`.
"""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every dualpose module that registers components, and optionally make
    ``dualpose`` the default registry scope."""
    import dualpose.codecs  # noqa: F401
    import dualpose.datasets  # noqa: F401
    import dualpose.engine  # noqa: F401
    import dualpose.evaluation  # noqa: F401
    import dualpose.models  # noqa: F401
    import dualpose.visualization  # noqa: F401

    if init_default_scope:
        never_created = (DefaultScope.get_current_instance() is None
                         or not DefaultScope.check_instance_created('dualpose'))
        if never_created:
            DefaultScope.get_instance('dualpose', scope_name='dualpose')
            return
        current_scope = DefaultScope.get_current_instance()
        if current_scope.scope_name != 'dualpose':
            warnings.warn('The current default scope '
                          f'"{current_scope.scope_name}" is not "dualpose", '
                          '`register_all_modules` will force the current '
                          'default scope to be "dualpose".')
            new_instance_name = f'dualpose-{datetime.datetime.now()}'
            DefaultScope.get_instance(new_instance_name, scope_name='dualpose')


def check_data_files(cfg, dataloader_keys, config_path: str = 'the config') -> None:
    """Fail before anything is written when a dataset's annotation file is missing.

    Names the missing path, points to the data docs and, for Human3.6M configs, to the
    synthetic counterpart that runs without downloads.
    """
    import os.path as osp
    for key in dataloader_keys:
        loader = cfg.get(key)
        if not loader:
            continue
        ds = loader['dataset']
        ann = ds.get('ann_file')
        if not ann:
            continue
        path = ann if osp.isabs(ann) else osp.join(ds.get('data_root', '') or '', ann)
        if not osp.isfile(path):
            synthetic = (cfg.get('data_hint') or {}).get('synthetic_config',
                                                         'a config from configs/dualpose/synthetic/')
            name = _dataset_name(cfg, ds)
            message = (f'{key}.dataset.ann_file {path!r} (from {config_path}) does not exist.\n'
                       f'  Real {name}: see docs/datasets.md for where to put the files and how '
                       'to prepare them.')
            if 'synthetic' in str(path) or name == 'Human3.6M':
                message += ('\n  Without it, use the synthetic default: .venv/bin/python '
                            'tools/dataset_converters/make_synthetic_h36m.py, then train '
                            f'{synthetic}.')
            raise FileNotFoundError(message)


def _dataset_name(cfg, dataset_cfg) -> str:
    """The dataset a config reads, in words, for messages."""
    info = cfg.get('dataset_info') or dataset_cfg.get('metainfo') or {}
    kind = f"{info.get('dataset_name', '')} {dataset_cfg.get('type', '')}".lower()
    if 'mpi' in kind or '3dhp' in kind:
        return 'MPI-INF-3DHP'
    if 'h36m' in kind or 'human36m' in kind:
        return 'Human3.6M'
    return 'data'


def check_pretrained_files(cfg, config_path: str = 'the config') -> None:
    """Fail before anything runs when a ``Pretrained`` ``init_cfg`` of the model names a
    local checkpoint that does not exist (e.g. a fine-tuning config whose pre-training has not
    run), naming the config that writes it when it lies in ``work_dirs/<config name>/``."""
    import glob
    import os.path as osp

    from mmengine.config import ConfigDict

    def walk(node, where):
        if isinstance(node, (dict, ConfigDict)):
            init = node.get('init_cfg')
            inits = init if isinstance(init, (list, tuple)) else [init]
            for i, item in enumerate(inits):
                if isinstance(item, dict) and item.get('type') == 'Pretrained':
                    yield f'{where}.init_cfg' + (f'.{i}' if isinstance(init, (list, tuple))
                                                 else ''), item.get('checkpoint')
            for k, v in node.items():
                if k != 'init_cfg':
                    yield from walk(v, f'{where}.{k}')
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                yield from walk(v, f'{where}.{i}')

    for where, ckpt in walk(cfg.get('model') or {}, 'model'):
        if not isinstance(ckpt, str) or '://' in ckpt or osp.isfile(ckpt):
            continue
        message = f'{where}.checkpoint {ckpt!r} (from {config_path}) does not exist.'
        parts = osp.normpath(ckpt).split(osp.sep)
        if 'work_dirs' in parts[:-2]:
            name = parts[parts.index('work_dirs') + 1]
            from dualpose.utils.resources import resource_root
            root = resource_root()
            found = sorted(glob.glob(osp.join(root, 'configs', '**', name + '.py'),
                                     recursive=True))
            writer = osp.relpath(found[0], root) if found else f'the config {name}.py'
            message += (f'\n  It is written by training {writer} first: .venv/bin/python '
                        f'tools/train.py {writer}')
        message += (f'\n  Or name another checkpoint: --cfg-options {where}.checkpoint=PATH')
        raise FileNotFoundError(message)


def add_common_args(parser) -> None:
    """The options ``tools/train.py`` and ``tools/test.py`` share."""
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_cfg.max_epochs=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--verbose', action='store_true',
                        help="print mmengine's environment, config and hook dumps on the console "
                        '(by default they go to the log file only, after a short header)')


def load_config(args):
    """Config from ``args.config`` with the common options applied: launcher, overrides,
    work dir (default ``work_dirs/<config name>``), and the CPU (gloo) distributed set-up."""
    import os
    import os.path as osp

    from dualpose.utils.compat import cpu_model_wrapper_cfg, init_cpu_distributed
    from dualpose.utils.config import read_config
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if getattr(args, 'verbose', False):
        os.environ['DUALPOSE_VERBOSE'] = '1'  # read by dualpose.engine.console
    cfg = read_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
        if getattr(args, 'resume', None) is not None:  # say where --resume will look
            print(f'--resume without --work-dir: using the work dir {osp.abspath(cfg.work_dir)} '
                  '(work_dirs/<config name> under the current directory)', flush=True)
    from dualpose.utils.config_check import check_config_keys
    check_config_keys(cfg, args.config)
    if init_cpu_distributed(args.launcher):
        cfg.env_cfg.dist_cfg = dict(backend='gloo')
        cfg.model_wrapper_cfg = cpu_model_wrapper_cfg()
    return cfg


def build_runner(cfg):
    """The runner the config names (``runner_type``, e.g. ``DualposeRunner``), else mmengine's
    ``Runner``."""
    if cfg.get('runner_type'):
        from dualpose.registry import RUNNERS
        return RUNNERS.build(cfg)
    from mmengine.runner import Runner
    return Runner.from_cfg(cfg)


def check_data_or_exit(cfg, dataloader_keys, config_path: str) -> None:
    """``check_data_files``, turning a missing file into a one-message exit (status 1)."""
    import sys
    try:
        check_data_files(cfg, dataloader_keys, config_path=config_path)
        if 'train_dataloader' in dataloader_keys:
            check_pretrained_files(cfg, config_path=config_path)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
