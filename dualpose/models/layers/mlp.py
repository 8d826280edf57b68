from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


def linear_out_scaled(x: torch.Tensor, linear: nn.Linear,
                      out_scale: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``out_scale * linear(x)`` with the per-channel scale folded into the (C_out, C_in)
    weight and the bias: no extra pass over the tokens, forward or backward, and no
    (tokens, C) activation kept for the scale's gradient. Equal to the unfused product."""
    if out_scale is None:
        return linear(x)
    bias = None if linear.bias is None else linear.bias * out_scale
    return F.linear(x, linear.weight * out_scale.unsqueeze(1), bias)


class _GeluLinear(torch.autograd.Function):
    """``linear(gelu(h), weight, bias)`` that keeps only ``h`` for the backward and recomputes
    ``gelu(h)`` there: one (tokens, hidden) activation less per MLP, for one extra GELU."""

    @staticmethod
    def forward(ctx, h, weight, bias):
        w = weight.to(h.dtype)
        out = F.linear(F.gelu(h), w, None if bias is None else bias.to(h.dtype))
        ctx.save_for_backward(h, weight)
        ctx.has_bias = bias is not None
        return out

    @staticmethod
    def backward(ctx, grad_out):
        h, weight = ctx.saved_tensors
        w = weight.to(h.dtype)
        go = grad_out.to(h.dtype)
        grad_h = torch.ops.aten.gelu_backward(go @ w, h)
        go2 = go.reshape(-1, go.shape[-1])
        grad_w = (go2.t() @ F.gelu(h).reshape(-1, h.shape[-1])).to(weight.dtype)
        grad_b = go2.sum(0).to(weight.dtype) if ctx.has_bias else None
        return grad_h, grad_w, grad_b


class Mlp(nn.Module):
    """Two-layer perceptron applied per token: ``Linear(C -> rC) -> GELU -> Linear(rC -> C)``.

    Args:
        recompute_act (bool): in training, keep the hidden pre-activation only and recompute
            the GELU in the backward (``_GeluLinear``), which saves a (tokens, rC) activation
            per block; False runs the plain modules (the reference). Both give the same values
            and gradients. Off when ``drop > 0``.
    """
    takes_out_scale = True

    def __init__(self, dim: int, mlp_ratio: float = 4.0, drop: float = 0.0,
                 recompute_act: bool = True):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)
        self.recompute_act = recompute_act and drop == 0

    def forward(self, x: torch.Tensor, out_scale: Optional[torch.Tensor] = None):
        """``out_scale * MLP(x)`` (``out_scale``: an optional (C,) layer scale, folded into
        fc2)."""
        h = self.fc1(x)
        if self.recompute_act and torch.is_grad_enabled():
            w, b = self.fc2.weight, self.fc2.bias
            if out_scale is not None:
                w = w * out_scale.unsqueeze(1)
                b = None if b is None else b * out_scale
            return _GeluLinear.apply(h, w, b)
        if not (torch.is_grad_enabled() and h.requires_grad) and type(self.act) is nn.GELU:
            # nothing keeps the pre-activation: GELU in place, one (tokens, rC) buffer less
            a = torch.ops.aten.gelu_(h, approximate=self.act.approximate)
        else:
            a = self.act(h)
        return self.drop(linear_out_scaled(self.drop(a), self.fc2, out_scale))
