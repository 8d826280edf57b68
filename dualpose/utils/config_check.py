"""Refuse config keys that no constructor takes, and values of the wrong type, naming the key.

mmengine passes a config's dicts to the constructors that ``type=`` names; a misspelt key then
either raises a bare ``TypeError: __init__() got an unexpected keyword argument`` or, inside a
dict a constructor reads with ``.get`` (``arch``, ``test_cfg``), is ignored without a word. Here
every dict with a ``type`` is compared with the signature of the registered class (following
``**kwargs`` up the class hierarchy), dict-valued arguments are checked against the keys the
class declares in ``config_keys`` (or against the class their default ``type`` names), and a
value whose type the annotation rules out (``lr='abc'``, ``seq_len='abc'``, ``depth=2.5``) is
refused. Every problem is reported at once, with a did-you-mean suggestion (difflib).
"""
import difflib
import inspect
import types
import typing
from typing import Dict, List, Optional, Tuple

__all__ = ['ConfigKeyError', 'check_config_keys', 'accepted_keys']


class ConfigKeyError(ValueError):
    """A config key no constructor accepts, or a value of the wrong type."""


_SIMPLE = (bool, int, float, str, type(None))


def accepted_keys(cls) -> Tuple[Dict[str, inspect.Parameter], bool]:
    """The keyword arguments ``cls(...)`` takes, following ``**kwargs`` to the parents'
    ``__init__``; and whether any key is accepted (a ``**kwargs`` that goes nowhere known)."""
    params: Dict[str, inspect.Parameter] = {}
    if not inspect.isclass(cls):
        try:
            sig = inspect.signature(cls)
        except (TypeError, ValueError):
            return params, True
        return dict(sig.parameters), any(p.kind == p.VAR_KEYWORD
                                         for p in sig.parameters.values())
    for klass in inspect.getmro(cls):
        if '__init__' not in vars(klass):
            continue
        if klass is object:
            return params, False
        try:
            sig = inspect.signature(klass.__init__)
        except (TypeError, ValueError):
            return params, True
        try:   # string annotations (``from __future__ import annotations``) resolved
            hints = typing.get_type_hints(klass.__init__)
        except Exception:  # noqa: BLE001 -- unresolvable: those annotations are not checked
            hints = {}
        var_kw = False
        for name, p in sig.parameters.items():
            if name == 'self' or p.kind == p.VAR_POSITIONAL:
                continue
            if p.kind == p.VAR_KEYWORD:
                var_kw = True
                continue
            params.setdefault(name, p.replace(annotation=hints.get(name, p.annotation)))
        if not var_kw:
            return params, False
    return params, True


def _allowed_types(annotation):
    """The simple types an annotation admits, or None when it admits other things too
    (containers, modules, dicts...) and is not checked. ``torch.Tensor`` is ignored."""
    if annotation is inspect.Parameter.empty or isinstance(annotation, str):
        return None
    if annotation in _SIMPLE:
        return {annotation}
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        out = set()
        for arg in typing.get_args(annotation):
            if getattr(arg, '__name__', '') == 'Tensor':
                continue
            sub = _allowed_types(arg)
            if sub is None:
                return None
            out |= sub
        return out or None
    return None


def _type_problem(value, allowed) -> Optional[str]:
    if allowed is None:
        return None
    if value is None:
        ok = type(None) in allowed
    elif isinstance(value, bool):
        ok = bool in allowed or int in allowed
    elif isinstance(value, int):
        ok = int in allowed or float in allowed
    elif isinstance(value, float):
        ok = float in allowed
    elif isinstance(value, str):
        ok = str in allowed
    else:
        ok = False
    if ok:
        return None
    names = ' or '.join(sorted('None' if t is type(None) else t.__name__ for t in allowed))
    return f'expected {names}'


def _suggest(key, known) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ''


class _Checker:

    def __init__(self, registries: Dict[str, object]):
        self.registries = registries
        self.errors: List[str] = []

    def lookup(self, registry, typ):
        if inspect.isclass(typ) or callable(typ):
            return typ
        if not isinstance(typ, str) or registry is None:
            return None
        try:
            return registry.get(typ)
        except Exception:  # noqa: BLE001 -- an unknown type is reported when it is built
            return None

    def check(self, cfg, registry, path: str) -> None:
        if isinstance(cfg, (list, tuple)):
            for i, item in enumerate(cfg):
                self.check(item, registry, f'{path}[{i}]')
            return
        if not isinstance(cfg, dict) or 'type' not in cfg:
            return
        cls = self.lookup(registry, cfg['type'])
        if cls is None:
            return
        params, any_key = accepted_keys(cls)
        declared = getattr(cls, 'config_keys', {}) or {}
        name = getattr(cls, '__name__', str(cls))
        for key, value in cfg.items():
            if key in ('type', '_scope_'):
                continue
            where = f'{path}.{key}'
            param = params.get(key)
            if param is None:
                if not any_key:
                    self.errors.append(
                        f'unknown key {where}: {name} takes no argument {key!r}'
                        f'{_suggest(key, params)}')
                continue
            problem = _type_problem(value, _allowed_types(param.annotation))
            if problem:
                self.errors.append(f'{where}={value!r}: {problem} ({name}.{key})')
                continue
            self.nested(key, value, param, declared, registry, where, name)

    def nested(self, key, value, param, declared, registry, where, owner) -> None:
        sub_registry = self.registries.get(key, registry)
        if isinstance(value, dict) and 'type' not in value:
            if key in declared:
                known = declared[key]
                for k, v in value.items():
                    if k not in known:
                        self.errors.append(
                            f'unknown key {where}.{k}: {owner}\'s {key} takes '
                            f'{sorted(known)}{_suggest(k, known)}')
                    elif isinstance(known, dict):
                        problem = _type_problem(v, _allowed_types(known[k]))
                        if problem:
                            self.errors.append(f'{where}.{k}={v!r}: {problem}')
                return
            default = param.default
            if isinstance(default, dict) and 'type' in default:
                self.check({**value, 'type': default['type']}, sub_registry, where)
            return
        self.check(value, sub_registry, where)


def check_config_keys(cfg, source: str = 'the config') -> None:
    """Raise :class:`ConfigKeyError` listing every key of ``model``, the dataloaders'
    datasets (and their pipelines and samplers), ``optim_wrapper.optimizer`` and
    ``param_scheduler`` that no constructor accepts, or whose value has the wrong type."""
    from dualpose.registry import (DATA_SAMPLERS, DATASETS, MODELS, OPTIMIZERS,
                                   PARAM_SCHEDULERS, TRANSFORMS)
    checker = _Checker({'pipeline': TRANSFORMS, 'transforms': TRANSFORMS})
    get = cfg.get if hasattr(cfg, 'get') else (lambda k, d=None: d)
    checker.check(get('model'), MODELS, 'model')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        section = get(loader) or {}
        if isinstance(section, dict):
            checker.check(section.get('dataset'), DATASETS, f'{loader}.dataset')
            checker.check(section.get('sampler'), DATA_SAMPLERS, f'{loader}.sampler')
            for key in ('batch_size', 'num_workers'):
                value = section.get(key)
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    checker.errors.append(f'{loader}.{key}={value!r}: expected int')
    optim = get('optim_wrapper') or {}
    if isinstance(optim, dict):
        checker.check(optim.get('optimizer'), OPTIMIZERS, 'optim_wrapper.optimizer')
    checker.check(get('param_scheduler'), PARAM_SCHEDULERS, 'param_scheduler')
    if checker.errors:
        lines = '\n  '.join(checker.errors)
        raise ConfigKeyError(f'{source}: {len(checker.errors)} config '
                             f'problem{"s" if len(checker.errors) > 1 else ""}:\n  {lines}')
