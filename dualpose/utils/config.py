"""Reading a config file: the one loader every entry point and API goes through."""


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
