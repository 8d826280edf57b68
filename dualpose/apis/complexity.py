"""Parameters and multiply-accumulates (MACs) of a lifting model, counted two ways.

- ``linear``: the linear layers only, ``in_features`` MACs per output element (the convention
  of thop, in which MotionAGFormer-B is 48.3 G per 243-frame clip); every ``F.linear`` call
  counts, including linear layers applied with a folded layer scale;
- ``matmul``: every matrix product the forward pass runs (linear layers, attention
  ``q k^T`` and ``attn v``, graph aggregation, the k-NN similarity), counted at the ATen level
  by ``torch.utils.flop_counter.FlopCounterMode`` (like torchprofile's 64.7 G for MotionAGFormer-B).

Element-wise work (norms, activations, softmax, the O(T) banded temporal aggregation) is in
neither count. The forward runs on the ``meta`` device: nothing is computed or allocated, so
any sequence length is counted in seconds.
"""
import copy
import os.path as osp
from typing import Dict, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from dualpose.registry import MODELS


class _LinearMacs(TorchFunctionMode):
    """Counts the MACs of every ``F.linear`` call (``nn.Linear`` modules and linear layers
    applied functionally, e.g. with a folded layer scale): tokens x in x out."""

    def __init__(self):
        super().__init__()
        self.macs = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.linear:
            x = args[0] if args else kwargs['input']
            w = args[1] if len(args) > 1 else kwargs['weight']
            self.macs += x.numel() // x.shape[-1] * w.shape[0] * w.shape[1]
        return func(*args, **kwargs)


def _model_cfg(cfg):
    from mmengine.config import Config
    if isinstance(cfg, str):
        from dualpose.utils.config import read_config
        if not osp.isfile(cfg):
            raise FileNotFoundError(f'config {cfg!r} does not exist')
        cfg = read_config(cfg)
    if isinstance(cfg, Config):
        cfg_dict = cfg
    else:
        cfg_dict = Config(dict(cfg))
    return cfg_dict, cfg_dict.get('model', cfg_dict)


def default_seq_len(cfg) -> int:
    """The T a config's model works on (:func:`dualpose.utils.config.window_length`)."""
    from dualpose.utils.config import resolve_seq_len, window_length
    cfg, _ = _model_cfg(cfg)
    return window_length(resolve_seq_len(cfg))


def input_shape(model: nn.Module):
    """(J, in_channels) of the model's input, read from its backbone."""
    backbone = getattr(model, 'backbone', model)
    j = getattr(backbone, 'num_joints', None)
    c = getattr(backbone, 'in_channels', 3)
    if j is None:
        raise ValueError(f'cannot tell the number of joints of {type(backbone).__name__}: '
                         'it has no num_joints attribute')
    return int(j), int(c)


def build_model(cfg) -> nn.Module:
    from .setup_env import register_all_modules
    register_all_modules()
    _, model_cfg = _model_cfg(cfg)
    return MODELS.build(model_cfg)


def _kind_of(module: nn.Module) -> Optional[str]:
    from dualpose.models.layers.attention import MultiHeadSelfAttention
    from dualpose.models.layers.graph_conv import _GraphConvBase
    if isinstance(module, MultiHeadSelfAttention):
        return 'attention'
    if isinstance(module, _GraphConvBase):
        return 'graph'
    return None


@torch.no_grad()
def count_macs(cfg=None, seq_len: Optional[int] = None, model: Optional[nn.Module] = None,
               batch_size: int = 1) -> Dict[str, Union[int, float, dict]]:
    """Count parameters and MACs of one forward pass (``mode='tensor'``) per clip.

    Args:
        cfg: config path, ``Config`` or dict (a whole config with ``model``, or a model
            config). Ignored for building when ``model`` is given, still read for ``seq_len``.
        seq_len (int): T; default :func:`default_seq_len`.
        model (nn.Module): count this model instead of building one (it is not modified).
        batch_size (int): clips in the counted forward pass (the figures are per clip).

    Returns:
        dict: ``params``; ``seq_len``, ``num_joints``; ``linear_macs`` and ``matmul_macs``
        per clip; ``linear_macs_per_frame`` and ``matmul_macs_per_frame``; ``matmul_by_kind``
        (per clip: ``linear``, ``attention`` (q k^T and attn v), ``graph`` (aggregation and
        k-NN similarity), ``other``).
    """
    from torch.utils.flop_counter import FlopCounterMode

    from dualpose.models.layers.attention import MultiHeadSelfAttention
    if model is None:
        if cfg is None:
            raise ValueError('count_macs needs a config or a model')
        model = build_model(cfg)
    if seq_len is None:
        seq_len = default_seq_len(cfg) if cfg is not None else 243
    if seq_len < 1 or batch_size < 1:
        raise ValueError(f'seq_len and batch_size must be >= 1, got {seq_len}, {batch_size}')
    params = sum(p.numel() for p in model.parameters())
    num_joints, in_channels = input_shape(model)

    meta = copy.deepcopy(model).to('meta').eval()
    for m in meta.modules():
        if isinstance(m, MultiHeadSelfAttention):
            m.attn_impl = 'sdpa'  # the count is the same; keeps the CUDA op out of it

    counter = FlopCounterMode(display=False)
    linear = _LinearMacs()
    kind_macs = {'attention': 0, 'graph': 0}
    kind_linear = {'attention': 0, 'graph': 0}
    stack = []  # (kind, flops at entry, linear MACs at entry)

    def pre_hook(mod, inputs):
        stack.append((_kind_of(mod), counter.get_total_flops(), linear.macs))

    def post_hook(mod, inputs, output):
        kind, flops0, lin0 = stack.pop()
        if stack:
            return  # nested in a counted module: the outer one counts it
        kind_macs[kind] += (counter.get_total_flops() - flops0) // 2
        kind_linear[kind] += linear.macs - lin0

    handles = []
    for m in meta.modules():
        if _kind_of(m) is not None:
            handles.append(m.register_forward_pre_hook(pre_hook))
            handles.append(m.register_forward_hook(post_hook))
    x = torch.zeros(batch_size, seq_len, num_joints, in_channels, device='meta')
    try:
        with counter, linear:
            meta(x, mode='tensor') if _takes_mode(meta) else meta(x)
    finally:
        for h in handles:
            h.remove()

    total = counter.get_total_flops() // 2
    lin = linear.macs
    by_kind = {
        'linear': lin,
        'attention': kind_macs['attention'] - kind_linear['attention'],
        'graph': kind_macs['graph'] - kind_linear['graph'],
    }
    by_kind['other'] = total - sum(by_kind.values())
    per_clip = {k: v / batch_size for k, v in by_kind.items()}
    return dict(
        params=params, seq_len=seq_len, num_joints=num_joints, batch_size=batch_size,
        linear_macs=lin / batch_size, matmul_macs=total / batch_size,
        linear_macs_per_frame=lin / batch_size / seq_len,
        matmul_macs_per_frame=total / batch_size / seq_len,
        matmul_by_kind=per_clip)


def _takes_mode(model: nn.Module) -> bool:
    from mmengine.model import BaseModel
    return isinstance(model, BaseModel)
