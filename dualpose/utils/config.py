"""Reading a config file: the one loader every entry point and API goes through."""


DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
DEFAULT_SEQ_LEN = 243


def _dataset_dicts(dataset):
    """The dataset dicts that cut windows: a dataloader's dataset, or those a wrapper holds
    (``ConcatDataset.datasets``, ``RepeatDataset.dataset``; the wrappers take no seq_len)."""
    if not isinstance(dataset, dict):
        return
    inner = dataset.get('datasets')
    if isinstance(inner, (list, tuple)):
        for child in inner:
            yield from _dataset_dicts(child)
    elif isinstance(dataset.get('dataset'), dict):
        yield from _dataset_dicts(dataset['dataset'])
    else:
        yield dataset


def resolve_seq_len(cfg):
    """Give every dataloader's dataset the config's one window length.

    A config sets ``seq_len`` once, at its top level; each dataset dict of the three
    dataloaders that sets none takes it, and ``stride='seq_len'`` (non-overlapping windows,
    as the validation split uses) becomes that number. A dataset that names its own
    ``seq_len`` (e.g. ``--cfg-options train_dataloader.dataset.seq_len=9``) keeps it.
    Idempotent; called by :func:`read_config` and ``DualposeRunner.from_cfg``.
    """
    top = cfg.get('seq_len')
    for key in DATALOADER_KEYS:
        loader = cfg.get(key)
        if not isinstance(loader, dict):
            continue
        for dataset in _dataset_dicts(loader.get('dataset')):
            if dataset.get('seq_len') is None and top is not None:
                dataset['seq_len'] = top
            if dataset.get('stride') == 'seq_len':
                dataset['stride'] = dataset.get('seq_len', top)
    return cfg


def window_length(cfg) -> int:
    """The window T a config's model is run on: its test dataset's ``seq_len`` (so the
    inference API windows as ``tools/test.py`` does), else the training dataset's, else the
    top-level ``seq_len``, else 243. The one place this is read (inference, complexity
    counts, benchmarks)."""
    for key in ('test_dataloader', 'train_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset') or {}
        for d in _dataset_dicts(dataset):
            if isinstance(d.get('seq_len'), int):
                return int(d['seq_len'])
    return int(cfg.get('seq_len') or DEFAULT_SEQ_LEN)


def read_config(path: str, cfg_options=None):
    """``Config.fromfile``, then ``cfg_options`` (dotted keys, as ``--cfg-options``) merged and
    the window length resolved (:func:`resolve_seq_len`).

    A failure to import a ``custom_imports`` module names the config and the module, instead
    of a bare ImportError; a syntax error names the config file and line (mmengine's says
    ``File "<unknown>"``).

    The config's text (logged, dumped to the work dir and stored in every checkpoint) is not
    re-formatted with yapf: on these configs that took 3-18 s per call, several calls per run.
    mmengine's ``format_python_code=False`` is ignored by ``fromfile`` for plain Python
    configs, so the flag is set on the loaded object.
    """
    import ast
    import os.path as osp

    from mmengine.config import Config
    if osp.isdir(path):
        raise IsADirectoryError(f'config {path!r} is a directory, not a config file (.py)')
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path!r} does not exist')
    if path.endswith('.py'):
        with open(path, encoding='utf-8') as f:
            text = f.read()
        try:   # mmengine parses without a file name: its error says File "<unknown>"
            ast.parse(text, filename=path)
        except SyntaxError as err:
            raise SyntaxError(f'syntax error in config {path}, line {err.lineno}: {err.msg}',
                              (path, err.lineno, err.offset, err.text)) from None
    try:
        cfg = Config.fromfile(path)
        object.__setattr__(cfg, '_format_python_code', False)
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
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return resolve_seq_len(cfg)
