"""Multi-head self-attention over the joints of a frame or over the frames of a joint.

One switch, ``attn_impl``, picks how ``softmax(q k^T / sqrt(d)) v`` is computed:

- ``'sdpa'`` (default): ``F.scaled_dot_product_attention`` (flash-style kernels on CPU and
  GPU; no (N, N) matrix kept for the backward);
- ``'math'``: the explicit formula, :func:`attention_math` (the readable reference);
- ``'fused'``: compiled kernels, :mod:`dualpose.ops.attention`: on CPU tensors the AVX2
  kernel of :mod:`dualpose.ops.cpu_attention` (float32, without autograd; with autograd the
  explicit math for short sequences), on CUDA tensors the optional CUDA kernel; ``'sdpa'``
  (logged once, with the reason) wherever neither runs.

All three agree (tests/test_models/test_layers, tests/test_ops).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mlp import linear_out_scaled

ATTN_IMPLS = ('sdpa', 'math', 'fused')


def attention_math(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   dropout_p: float = 0.0, training: bool = False) -> torch.Tensor:
    """The reference: ``softmax(q k^T / sqrt(d)) v`` for (..., N, D) tensors."""
    attn = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    attn = F.dropout(attn.softmax(dim=-1), p=dropout_p, training=training)
    return attn @ v


def scaled_dot_product(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, impl: str = 'sdpa',
                       dropout_p: float = 0.0, training: bool = False) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d)) v`` computed by ``impl`` (see the module docstring)."""
    drop = dropout_p if training else 0.0
    if impl == 'sdpa':
        return F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
    if impl == 'math':
        return attention_math(q, k, v, drop, training)
    if impl == 'fused':
        from dualpose.ops import fused_attention
        return fused_attention(q, k, v, dropout_p=drop)
    raise ValueError(f'attn_impl must be one of {ATTN_IMPLS}, got {impl!r}')


def resolve_attn_impl(attn_impl: Optional[str], use_sdpa: Optional[bool]) -> str:
    """``attn_impl`` wins; the older boolean ``use_sdpa`` maps True -> 'sdpa', False -> 'math'."""
    if attn_impl is None:
        attn_impl = 'math' if use_sdpa is False else 'sdpa'
    elif use_sdpa is not None and (attn_impl == 'math') == bool(use_sdpa):
        raise ValueError(f'use_sdpa={use_sdpa} contradicts attn_impl={attn_impl!r}; '
                         'set attn_impl only')
    if attn_impl not in ATTN_IMPLS:
        raise ValueError(f'attn_impl must be one of {ATTN_IMPLS}, got {attn_impl!r}')
    return attn_impl


class MultiHeadSelfAttention(nn.Module):
    """Self-attention over the token axis of ``(B, N, C)``.

    Args:
        dim (int): channels C, divisible by ``num_heads``.
        num_heads (int): attention heads.
        attn_impl (str): ``'sdpa'`` (default), ``'math'`` (reference) or ``'fused'``
            (compiled CPU / CUDA kernels, see the module docstring).
        use_sdpa (bool, optional): older switch, kept for existing configs: True is
            ``attn_impl='sdpa'``, False is ``'math'``.

    ``forward(x, out_scale)`` returns ``out_scale * attention(x)``; a (C,) ``out_scale``
    (the block's layer scale) is folded into the output projection.
    """
    takes_out_scale = True

    def __init__(self, dim: int, num_heads: int = 8, qkv_bias: bool = True,
                 attn_drop: float = 0.0, proj_drop: float = 0.0,
                 attn_impl: Optional[str] = None, use_sdpa: Optional[bool] = None):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'dim {dim} must be divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.attn_impl = resolve_attn_impl(attn_impl, use_sdpa)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    @property
    def use_sdpa(self) -> bool:
        return self.attn_impl != 'math'

    def attend(self, q, k, v):
        return scaled_dot_product(q, k, v, self.attn_impl, self.attn_drop, self.training)

    def project(self, out: torch.Tensor, out_scale: Optional[torch.Tensor]) -> torch.Tensor:
        return self.proj_drop(linear_out_scaled(out, self.proj, out_scale))

    def forward(self, x: torch.Tensor, out_scale: Optional[torch.Tensor] = None):
        """x: (B, N, C) -> (B, N, C)."""
        b, n, c = x.shape
        # (B, N, 3C) -> (3, B, H, N, D): views, no copy
        q, k, v = self.qkv(x).view(b, n, 3, self.num_heads, self.head_dim).permute(
            2, 0, 3, 1, 4).unbind(0)
        out = self.attend(q, k, v).transpose(1, 2).reshape(b, n, c)
        return self.project(out, out_scale)


class SpatialAttention(MultiHeadSelfAttention):
    """Attention among the J joints of each frame: ``(B, T, J, C) -> (B, T, J, C)``.
    (B, T, J, C) is already the (B*T, J, C) layout: a view, no copy."""

    def forward(self, x: torch.Tensor, out_scale: Optional[torch.Tensor] = None):
        b, t, j, c = x.shape
        return super().forward(x.reshape(b * t, j, c), out_scale).view(b, t, j, c)


class TemporalAttention(MultiHeadSelfAttention):
    """Attention among the T frames of each joint: ``(B, T, J, C) -> (B, T, J, C)``.

    The projections run in the (B, T, J, C) layout; the only copies are q, k, v into the
    per-joint (B*J, H, T, D) layout (a view when B = 1) and the attention output back into
    (B, T, J, C), which the output projection needs contiguous anyway.
    """

    def forward(self, x: torch.Tensor, out_scale: Optional[torch.Tensor] = None):
        b, t, j, c = x.shape
        h, d = self.num_heads, self.head_dim
        # (B, T, J, 3C) -> (3, B, J, H, T, D) view -> q, k, v of (B*J, H, T, D)
        qkv = self.qkv(x).view(b, t, j, 3, h, d).permute(3, 0, 2, 4, 1, 5)
        q, k, v = (z.reshape(b * j, h, t, d) for z in qkv.unbind(0))
        out = self.attend(q, k, v).view(b, j, h, t, d)
        out = out.permute(0, 3, 1, 2, 4).reshape(b, t, j, c)
        return self.project(out, out_scale)
