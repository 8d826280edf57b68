"""Compatibility fixes for mmengine 0.10.x on torch >= 2.6, kept in one place.

Applied once, at import of :mod:`dualpose` (``apply_compat_fixes`` is idempotent).
"""
import contextlib

import torch
from mmengine.optim import OptimWrapper
from mmengine.runner import CheckpointLoader

from dualpose.registry import OPTIM_WRAPPERS

_APPLIED = False


def _load_local_checkpoint(filename, map_location=None):
    """Load a local checkpoint with ``weights_only=False``.

    Why: torch >= 2.6 defaults ``torch.load(weights_only=True)``, but mmengine checkpoints
    pickle ``HistoryBuffer`` objects and numpy arrays in their ``message_hub``, so resume and
    ``load_from`` fail with "Unsupported global". Only load checkpoints you trust.
    """
    import os.path as osp
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename!r} does not exist')
    try:
        return torch.load(filename, map_location=map_location, weights_only=False)
    except Exception as err:  # truncated or corrupted file: say which file
        raise RuntimeError(
            f'could not read checkpoint {filename!r} ({type(err).__name__}: {err}); '
            'the file is probably truncated or not a torch checkpoint') from err


def apply_compat_fixes():
    """Re-register mmengine's local-file checkpoint loader (see ``_load_local_checkpoint``)."""
    global _APPLIED
    if _APPLIED:
        return
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_local_checkpoint)
    _APPLIED = True


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Mixed precision on any device.

    Why: mmengine's ``AmpOptimWrapper`` refuses CPU. On CUDA this wrapper autocasts to
    ``dtype`` (default float16 with a grad scaler would need AmpOptimWrapper; we use bfloat16,
    which needs no scaler); on CPU it enters ``torch.autocast('cpu', torch.bfloat16)``.
    """

    def __init__(self, *args, dtype: str = 'bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        self.dtype = getattr(torch, dtype)

    @contextlib.contextmanager
    def optim_context(self, model):
        device = next(model.parameters()).device.type
        with super().optim_context(model):
            with torch.autocast(device_type=device, dtype=self.dtype):
                yield


def init_cpu_distributed(launcher: str, backend: str = 'gloo'):
    """Initialise the gloo process group before the Runner when CUDA is absent.

    Why: mmengine calls ``torch.cuda.set_device`` unconditionally in its own initialisation,
    which raises on CPU-only builds. Returns True when it initialised the group.
    """
    import torch.distributed as dist
    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return False
    dist.init_process_group(backend=backend)
    return True


def cpu_model_wrapper_cfg():
    """DDP config for CPU modules. Why: mmengine passes ``device_ids=[0]``, which DDP rejects
    for CPU modules."""
    return dict(type='MMDistributedDataParallel', device_ids=None)
