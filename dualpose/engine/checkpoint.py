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
                 warn: Optional[Callable[[str], None]] = None) -> None:
    """Fill ``model`` from ``checkpoint`` (a path, or a dict already read from ``filename``).

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
    if unexpected:
        (warn or warnings.warn)(f'checkpoint {filename!r}: {len(unexpected)} weights the model '
                                f'does not use were ignored, e.g. {unexpected[:5]}')
        state = {k: v for k, v in state.items() if k not in set(unexpected)}
    load_state_dict(model, state, strict=True)


_STEP = re.compile(r'(epoch|iter)_(\d+)\.pth$')


def _candidates(work_dir: str) -> List[str]:
    """Checkpoints in ``work_dir``: the one ``last_checkpoint`` names first, then the others,
    newest (highest epoch / iteration, then modification time) first."""
    named = None
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            named = f.read().strip() or None
    files = [p for p in glob.glob(osp.join(work_dir, '*.pth')) if _STEP.search(p)]
    files.sort(key=lambda p: (int(_STEP.search(p).group(2)), osp.getmtime(p)), reverse=True)
    ordered = ([named] if named else []) + [p for p in files
                                            if not named or osp.abspath(p) != osp.abspath(named)]
    return ordered


def find_resumable_checkpoint(work_dir: str, logger=None) -> Optional[str]:
    """The latest checkpoint in ``work_dir`` that loads. A file that is missing, truncated or
    not a training checkpoint is skipped with a warning and the next older one is tried."""
    for path in _candidates(work_dir):
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
