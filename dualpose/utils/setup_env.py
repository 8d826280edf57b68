import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every dualpose module that registers components, and optionally make
    ``dualpose`` the default registry scope."""
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
            raise FileNotFoundError(
                f'{key}.dataset.ann_file {path!r} (from {config_path}) does not exist.\n'
                '  Real Human3.6M: see docs/datasets.md for where to put the files and how to '
                'prepare them.\n'
                '  Without it, use the synthetic default: python '
                'tools/dataset_converters/make_synthetic_h36m.py, then train '
                f'{synthetic}.')


def add_common_args(parser) -> None:
    """The options ``tools/train.py`` and ``tools/test.py`` share."""
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_cfg.max_epochs=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def read_config(path: str):
    """``Config.fromfile`` whose failure to import a ``custom_imports`` module names the
    config and the module, instead of a bare ImportError.

    The config's text (logged, dumped to the work dir and stored in every checkpoint) is not
    re-formatted with yapf: on these configs that took 3-18 s per call, several calls per run.
    mmengine's ``format_python_code=False`` is ignored by ``fromfile`` for plain Python
    configs, so the flag is set on the loaded object.
    """
    from mmengine.config import Config
    try:
        cfg = Config.fromfile(path)
        object.__setattr__(cfg, '_format_python_code', False)
        return cfg
    except ImportError as err:
        cause = err  # mmengine wraps the original error, maybe twice: find the innermost
        while (cause.__cause__ or cause.__context__) is not None:
            cause = cause.__cause__ or cause.__context__
        name = getattr(cause, 'name', None) or getattr(err, 'name', None)
        what = repr(name) if name else 'a module'
        raise ImportError(
            f'{path}: custom_imports could not import {what} ({type(cause).__name__}: '
            f'{cause}). Check the module path in custom_imports and that its folder is '
            'importable (run from the repository root or add it to PYTHONPATH).') from err


def load_config(args):
    """Config from ``args.config`` with the common options applied: launcher, overrides,
    work dir (default ``work_dirs/<config name>``), and the CPU (gloo) distributed set-up."""
    import os
    import os.path as osp

    from .compat import cpu_model_wrapper_cfg, init_cpu_distributed
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = read_config(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
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
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
