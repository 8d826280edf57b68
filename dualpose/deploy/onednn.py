"""fp32 inference in torch through oneDNN's prepacked linear layers: ``backend='onednn'``.

A training step needs the linear layers' weights as plain tensors; inference does not. On a
copy of the model (:func:`~dualpose.deploy.precision.inference_copy`: layer scales folded
into the layers), every linear layer's weight is reordered once into oneDNN's blocked layout
(``torch.ops.mkldnn._reorder_linear_weight``) and each product runs through
``torch.ops.mkldnn._linear_pointwise``, with the MLPs' GELU fused into their first layer's
output. Values equal the reference's (within 1e-6 on the B model). Measured on the B model
(T 243, 2 threads, an AVX-512 CPU, docs/deployment.md): the MLPs' second layers (512 -> 128
channels) take two thirds of MKL's time this way, and the whole forward pass about 0.8 of
the fused-kernel path's.

Where torch has no oneDNN (``torch.backends.mkldnn``) or the model is not on the CPU, fp32
torch runs instead, said in one log line.
"""
from typing import Optional

import torch
import torch.nn as nn

from .precision import _log, inference_copy, sliced_linears

__all__ = ['onednn_available', 'PackedLinear', 'packed_copy', 'OneDNNBackend', 'onednn_backend']


def onednn_available() -> bool:
    """Whether this torch build runs oneDNN's prepacked linear layers on the CPU."""
    mkldnn = getattr(torch.ops, 'mkldnn', None)
    return (torch.backends.mkldnn.is_available() and mkldnn is not None
            and hasattr(mkldnn, '_linear_pointwise')
            and hasattr(mkldnn, '_reorder_linear_weight'))


class PackedLinear(nn.Module):
    """``nn.Linear`` for inference with its weight in oneDNN's layout, optionally followed by
    a fused GELU (``activation='gelu'``). Takes (..., C_in) like the layer it replaces."""

    def __init__(self, linear: nn.Linear, activation: str = 'none'):
        super().__init__()
        if activation not in ('none', 'gelu'):
            raise ValueError(f"activation must be 'none' or 'gelu', got {activation!r}")
        weight = linear.weight.detach().float()
        self.register_buffer('packed_weight',
                             torch.ops.mkldnn._reorder_linear_weight(weight, None))
        self.register_buffer('bias', None if linear.bias is None
                             else linear.bias.detach().float().clone())
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.ops.mkldnn._linear_pointwise(
            x.reshape(-1, self.in_features).float(), self.packed_weight, self.bias,
            self.activation, [], 'none' if self.activation == 'gelu' else '')
        return out.view(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f'{self.in_features} -> {self.out_features}, activation={self.activation}'


def packed_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose linear layers are :class:`PackedLinear` (all but those read
    in slices, :func:`~dualpose.deploy.precision.sliced_linears`), the GELU of every MLP
    fused into its first layer. The original is untouched. CPU, inference only."""
    from dualpose.models.layers.mlp import Mlp
    clone = inference_copy(model)
    kept = sliced_linears(clone)
    fused = set()
    for name, module in clone.named_modules():
        if isinstance(module, Mlp) and type(module.act) is nn.GELU \
                and module.act.approximate == 'none' and isinstance(module.fc1, nn.Linear):
            fused.add(id(module.fc1))
            module.act = nn.Identity()
    targets = [(name, m) for name, m in clone.named_modules()
               if isinstance(m, nn.Linear) and id(m) not in kept]
    for name, linear in targets:
        parent, _, leaf = name.rpartition('.')
        owner = clone.get_submodule(parent) if parent else clone
        setattr(owner, leaf, PackedLinear(linear, 'gelu' if id(linear) in fused else 'none'))
    return clone


class OneDNNBackend:
    """What :class:`~dualpose.models.PoseLifter` runs for its tensors with
    ``backend='onednn'``: :func:`packed_copy` of the model, fp32, on the CPU."""

    backend = 'onednn'
    precision = 'fp32'
    description = 'torch fp32, oneDNN prepacked linear layers (GELU fused)'

    def __init__(self, model: nn.Module):
        self.module = packed_copy(model)

    @torch.no_grad()
    def __call__(self, inputs: torch.Tensor, with_trajectory: bool = True,
                 root_index: int = 0):
        pose, traj = self.module.heads_forward(inputs.cpu().float(), with_trajectory,
                                               root_index)
        return pose.to(inputs.device), None if traj is None else traj.to(inputs.device)


def onednn_backend(model: nn.Module) -> Optional[OneDNNBackend]:
    """The backend, or None (fp32 torch, logged once) where oneDNN cannot run it."""
    device = next(model.parameters()).device
    if device.type != 'cpu' or not onednn_available():
        why = (f'the model is on {device}' if device.type != 'cpu'
               else 'this torch build has no oneDNN linear kernels')
        _log(f"backend='onednn' asked for, but {why}: running torch fp32 instead")
        return None
    return OneDNNBackend(model)
