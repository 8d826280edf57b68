"""Checkpoint files: written atomically, checked against the model, the latest readable one
found for ``--resume auto``."""
import glob
import os.path as osp
import re
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.runner import CheckpointLoader, load_state_dict
from torch import nn

# mmengine's default: weights saved from a DDP-wrapped model carry a ``module.`` prefix
DDP_PREFIX = ((r'^module\.', ''), )


def is_local_path(path: str) -> bool:
    return '://' not in str(path)


def check_state_dict_matches(model: nn.Module, state_dict: Dict[str, torch.Tensor],
                             filename: str, what: str = 'the model built from the config'):
    """Raise a ValueError naming the checkpoint, the keys and the shapes when ``state_dict``
    cannot fill ``model``: a parameter or buffer missing from the file, or a shape that
    differs. Keys the model does not have are returned (the caller may warn)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    wrong = [(k, tuple(state_dict[k].shape), tuple(v.shape)) for k, v in own.items()
             if k in state_dict and hasattr(state_dict[k], 'shape')
             and tuple(state_dict[k].shape) != tuple(v.shape)]
    unexpected = [k for k in state_dict if k not in own]
    if missing or wrong:
        lines = [f'checkpoint {filename!r} does not match {what}:']
        if wrong:
            lines.append(f'  {len(wrong)} shape mismatches (key: checkpoint vs model), e.g.')
            lines += [f'    {k}: {a} vs {b}' for k, a, b in wrong[:5]]
        if missing:
            lines.append(f'  {len(missing)} keys of the model are not in the checkpoint, e.g. '
                         f'{missing[:5]}')
        if unexpected:
            lines.append(f'  {len(unexpected)} checkpoint keys the model lacks, e.g. '
                         f'{unexpected[:5]}')
        lines.append('  Was the checkpoint trained with this config (same arch, embed_dims, '
                     'depth, num joints)?')
        raise ValueError('\n'.join(lines))
    return unexpected


def read_checkpoint(filename: str, map_location='cpu') -> dict:
    """The checkpoint file as a dict (mmengine's ``CheckpointLoader``: local paths, URLs,
    ``open-mmlab://``...). A file that holds something else is a ValueError naming it."""
    ckpt = CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    if not isinstance(ckpt, dict):
        raise ValueError(f'checkpoint {filename!r} holds a {type(ckpt).__name__}, not a '
                         'state dict')
    return ckpt


def load_weights(model: nn.Module, checkpoint, filename: str,
                 what: str = 'the model built from the config',
                 revise_keys: Sequence[Tuple[str, str]] = DDP_PREFIX,
                 warn: Optional[Callable[[str], None]] = None, model_cfg=None) -> None:
    """Fill ``model`` from ``checkpoint`` (a path, or a dict already read from ``filename``).

    With ``model_cfg`` (the config's ``model`` the model was built from), the model config
    stored in the checkpoint is compared too (:func:`compare_model_cfg`): another
    architecture is an error even when every shape matches.

    Keys are revised first (by default the DDP ``module.`` prefix is stripped); then
    :func:`check_state_dict_matches` raises, naming the file, keys and shapes, when the
    weights cannot fill the model. Checkpoint keys the model lacks are reported through
    ``warn`` (default: ``warnings.warn``) and ignored; everything else loads strictly.
    """
    if not isinstance(checkpoint, dict):
        checkpoint = read_checkpoint(checkpoint)
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise ValueError(f'checkpoint {filename!r} holds no state dict '
                         f'(found {type(state).__name__})')
    for pattern, repl in revise_keys:
        state = {re.sub(pattern, repl, k): v for k, v in state.items()}
    unexpected = check_state_dict_matches(model, state, filename, what)
    if model_cfg is not None:   # the shapes fit: is it the same architecture?
        compare_model_cfg(model_cfg, checkpoint, filename, warn=warn)
    if unexpected:
        (warn or warnings.warn)(f'checkpoint {filename!r}: {len(unexpected)} weights the model '
                                f'does not use were ignored, e.g. {unexpected[:5]}')
        state = {k: v for k, v in state.items() if k not in set(unexpected)}
    load_state_dict(model, state, strict=True)


_STEP = re.compile(r'(epoch|iter)_(\d+)\.pth$')


def _candidates(work_dir: str, logger=None) -> List[str]:
    """Checkpoints in ``work_dir``: the one ``last_checkpoint`` names first (when it lies in
    the work dir, see :func:`resolve_recorded`), then the others, newest (highest epoch /
    iteration, then modification time) first."""
    named = None
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            named = f.read().strip() or None
        if named:
            try:
                named = resolve_recorded(work_dir, named)
            except ValueError as err:
                if logger is not None:
                    logger.warning(f'{err}; taking the latest checkpoint in the work dir '
                                   'instead')
                named = None
    files = [p for p in glob.glob(osp.join(work_dir, '*.pth')) if _STEP.search(p)]
    files.sort(key=lambda p: (int(_STEP.search(p).group(2)), osp.getmtime(p)), reverse=True)
    ordered = ([named] if named else []) + [p for p in files
                                            if not named or osp.abspath(p) != osp.abspath(named)]
    return ordered


def find_resumable_checkpoint(work_dir: str, logger=None) -> Optional[str]:
    """The latest checkpoint in ``work_dir`` that loads. A file that is missing, truncated or
    not a training checkpoint is skipped with a warning and the next older one is tried."""
    for path in _candidates(work_dir, logger):
        try:
            ckpt = torch.load(path, map_location='cpu', weights_only=False)
            if not (isinstance(ckpt, dict) and 'state_dict' in ckpt and 'meta' in ckpt):
                raise ValueError('no state_dict/meta: not a training checkpoint')
        except Exception as err:  # noqa: BLE001 -- any unreadable file is skipped
            if logger is not None:
                logger.warning(f'cannot resume from {path!r} ({type(err).__name__}: {err}); '
                               'trying an older checkpoint')
            continue
        return path
    return None


# ------------------------------------------------------------------ the model config it stores
# Keys of ``model`` whose difference between a checkpoint's stored config and the current one
# only warns: they change training or testing, not the architecture the weights belong to.
HARMLESS_MODEL_KEYS = ('test_cfg', 'train_cfg', 'init_cfg', 'data_preprocessor', 'pretrained',
                       'loss', 'drop_rate', 'drop_path_rate', 'attn_impl')


def _flatten(obj, prefix=''):
    """``{'a.b.c': leaf}`` of nested dicts (lists of dicts are indexed: ``loss.0.type``)."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_flatten(v, f'{prefix}{k}.'))
    elif isinstance(obj, (list, tuple)) and any(isinstance(v, dict) for v in obj):
        for i, v in enumerate(obj):
            out.update(_flatten(v, f'{prefix}{i}.'))
    else:
        out[prefix[:-1]] = list(obj) if isinstance(obj, tuple) else obj
    return out


def _plain(cfg):
    """A ConfigDict (or anything dict-like) as plain nested python containers."""
    if hasattr(cfg, 'to_dict'):
        cfg = cfg.to_dict()
    if isinstance(cfg, dict):
        return {k: _plain(v) for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return [_plain(v) for v in cfg]
    return cfg


def stored_model_cfg(checkpoint: dict) -> Optional[dict]:
    """The ``model`` config a checkpoint was written with: ``meta['model_cfg']`` (written by
    :class:`~dualpose.engine.DualposeRunner`, kept by ``tools/misc/publish_model.py``), else
    the ``model`` of the full config text mmengine stores in ``meta['cfg']``; None if neither."""
    meta = checkpoint.get('meta') or {}
    if isinstance(meta.get('model_cfg'), dict):
        return _plain(meta['model_cfg'])
    text = meta.get('cfg')
    if isinstance(text, str) and 'model' in text:
        try:
            from mmengine.config import Config
            return _plain(Config.fromstring(text, file_format='.py').get('model'))
        except Exception:  # noqa: BLE001 -- an unparsable old config: nothing to compare
            return None
    return None


def compare_model_cfg(model_cfg, checkpoint: dict, filename: str,
                      warn: Optional[Callable[[str], None]] = None) -> None:
    """Compare the config's ``model`` with the one stored in ``checkpoint``.

    A difference in an architecture key (any key of ``model`` except those under
    :data:`HARMLESS_MODEL_KEYS`) is a ValueError naming the keys and both values: weights of
    the same shapes can still belong to another architecture (``num_heads``, ``streams``,
    ``mlp_ratio``...). A difference in a harmless key is passed to ``warn``. Checkpoints that
    store no config, or a model of another ``type`` (a pretraining checkpoint given as
    ``load_from``), are not compared.
    """
    stored = stored_model_cfg(checkpoint)
    if stored is None or model_cfg is None:
        return
    current = _plain(model_cfg)
    if stored.get('type') != current.get('type'):
        return
    old, new = _flatten(stored), _flatten(current)
    differ = [k for k in sorted(set(old) | set(new)) if old.get(k, '<unset>') != new.get(k, '<unset>')]
    if not differ:
        return

    def harmless(key):
        return any(part in HARMLESS_MODEL_KEYS for part in key.split('.'))

    def show(keys):
        return '; '.join(f'model.{k}: checkpoint {old.get(k, "<unset>")!r}, config '
                         f'{new.get(k, "<unset>")!r}' for k in keys[:8]) + (
                             f' (and {len(keys) - 8} more)' if len(keys) > 8 else '')
    arch = [k for k in differ if not harmless(k)]
    soft = [k for k in differ if harmless(k)]
    if arch:
        raise ValueError(f'checkpoint {filename!r} was trained with another model config: '
                         f'{show(arch)}. Use the config the checkpoint was trained with (the '
                         "weights' shapes may match, but the outputs would differ).")
    if soft:
        (warn or warnings.warn)(f'checkpoint {filename!r}: model settings that do not change '
                                f'the architecture differ from its stored config: {show(soft)}')


def resolve_recorded(work_dir: str, recorded: str) -> str:
    """The checkpoint path that a work dir's ``last_checkpoint`` records, as a path.

    New files hold a path relative to the work dir; older ones an absolute path. Either way
    the file must lie inside ``work_dir`` (a copied work dir must not resume the checkpoints
    of the dir it was copied from): otherwise a ValueError says so and how to resume from it
    explicitly (``--resume PATH``)."""
    path = recorded if osp.isabs(recorded) else osp.join(work_dir, recorded)
    real, root = osp.realpath(path), osp.realpath(work_dir)
    if osp.commonpath([real, root]) != root:
        raise ValueError(f'{osp.join(work_dir, "last_checkpoint")} names {recorded!r}, which '
                         f'is outside the work dir {work_dir!r} (was the work dir copied?); '
                         'not loading it. To resume from it anyway, pass it explicitly: '
                         '--resume PATH')
    return path
