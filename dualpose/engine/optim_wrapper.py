"""Optimiser wrappers: ``AutocastOptimWrapper`` (bfloat16 autocast on any device)."""
import contextlib

import torch
from mmengine.optim import OptimWrapper

from dualpose.registry import OPTIM_WRAPPERS


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
