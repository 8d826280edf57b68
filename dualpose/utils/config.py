"""Reading a config file: the one loader every entry point and API goes through."""


def read_config(path: str):
    """``Config.fromfile`` whose failure to import a ``custom_imports`` module names the
    config and the module, instead of a bare ImportError, and whose syntax error names the
    config file and line (mmengine's says ``File "<unknown>"``).

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
