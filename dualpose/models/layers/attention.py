"""Multi-head self-attention over the joints of a frame or over the frames of a joint.

One switch, ``attn_impl`` (``'sdpa'``, ``'math'`` or ``'fused'``), picks how
``softmax(q k^T / sqrt(d)) v`` is computed; the math and the choice live in
:mod:`dualpose.ops.attention` (:func:`~dualpose.ops.attention.scaled_dot_product`), which
these modules call.
"""
from typing import Optional

import torch
import torch.nn as nn

from dualpose.models.utils.ring_cache import is_ring_cache, new_ring_cache
from dualpose.ops.attention import resolve_attn_impl, scaled_dot_product
from .mlp import linear_out_scaled


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

    def attend(self, q, k, v, attn_mask=None):
        return scaled_dot_product(q, k, v, self.attn_impl, self.attn_drop, self.training,
                                  attn_mask)

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


def causal_mask(num_frames: int, window: Optional[int] = None, device=None) -> torch.Tensor:
    """(T, T) bool, True where frame t may attend to frame s: ``t - window < s <= t`` (every
    earlier frame when ``window`` is None)."""
    t = torch.arange(num_frames, device=device)
    lag = t.view(-1, 1) - t.view(1, -1)
    mask = lag >= 0
    if window is not None:
        mask = mask & (lag < window)   # not in place: ONNX has no in-place and
    return mask


class TemporalAttention(MultiHeadSelfAttention):
    """Attention among the T frames of each joint: ``(B, T, J, C) -> (B, T, J, C)``.

    The projections run in the (B, T, J, C) layout; the only copies are q, k, v into the
    per-joint (B*J, H, T, D) layout (a view when B = 1) and the attention output back into
    (B, T, J, C), which the output projection needs contiguous anyway.

    Args:
        causal (bool): frame t attends to frames s <= t only (live lifting).
        window (int, optional): with ``causal``, a bounded look-back: t attends to the last
            ``window`` frames, itself included. :meth:`step` then keeps ``window`` keys.
    """

    def __init__(self, dim: int, causal: bool = False, window: Optional[int] = None,
                 **kwargs):
        super().__init__(dim, **kwargs)
        if window is not None and (not causal or int(window) < 1):
            raise ValueError(f'window={window}: a look-back needs causal=True and window >= 1')
        self.causal = causal
        self.window = None if window is None else int(window)

    def _qkv(self, x):
        b, t, j, _ = x.shape
        h, d = self.num_heads, self.head_dim
        # (B, T, J, 3C) -> (3, B, J, H, T, D) view -> q, k, v of (B*J, H, T, D)
        qkv = self.qkv(x).view(b, t, j, 3, h, d).permute(3, 0, 2, 4, 1, 5)
        return (z.reshape(b * j, h, t, d) for z in qkv.unbind(0))

    def _out(self, out, shape, out_scale):
        b, t, j, c = shape
        out = out.view(b, j, self.num_heads, t, self.head_dim)
        out = out.permute(0, 3, 1, 2, 4).reshape(b, t, j, c)
        return self.project(out, out_scale)

    def forward(self, x: torch.Tensor, out_scale: Optional[torch.Tensor] = None):
        q, k, v = self._qkv(x)
        mask = causal_mask(x.shape[1], self.window, x.device) if self.causal else None
        return self._out(self.attend(q, k, v, mask), x.shape, out_scale)

    def step(self, x: torch.Tensor, cache: dict, out_scale: Optional[torch.Tensor] = None):
        """One new frame ``x`` (B, 1, J, C) of a causal model, given the keys and values of
        the frames before it in ``cache``: a growing cache (empty at the first frame,
        updated in place) or a ring of fixed size (:meth:`init_cache`; the new frame's keys
        and values are left in ``cache['new']`` for
        :func:`~dualpose.models.utils.ring_cache.write_new_frame`). Equals the last frame of
        :meth:`forward` over all the frames so far."""
        if not self.causal:
            raise RuntimeError('TemporalAttention.step needs a causal layer (causal=True)')
        q, k, v = self._qkv(x)
        if is_ring_cache(cache):
            cache['new'] = dict(k=k, v=v)
            return self._out(self._attend_ring(q, k, v, cache), x.shape, out_scale)
        if cache:
            k = torch.cat([cache['k'], k], dim=2)
            v = torch.cat([cache['v'], v], dim=2)
        if self.window is not None and k.shape[2] > self.window:
            k, v = k[:, :, -self.window:], v[:, :, -self.window:]
        cache['k'], cache['v'] = k, v
        return self._out(self.attend(q, k, v), x.shape, out_scale)

    def _attend_ring(self, q, k, v, cache):
        """The one query of each row (BJ, H, 1, D) against the ring's real frames and its
        own key, without joining them into one tensor (that would copy the ring)."""
        ring_k, ring_v = cache['k'], cache['v']
        if ring_k.shape[2] == 0:
            return v
        q = q * self.head_dim ** -0.5
        own = (q * k).sum(-1, keepdim=True)                    # (BJ, H, 1, 1)
        past = (q @ ring_k.transpose(-1, -2)).masked_fill(~cache['valid'], float('-inf'))
        p = torch.cat([past, own], -1).softmax(-1)            # (BJ, H, 1, n + 1)
        return p[..., :-1] @ ring_v + p[..., -1:] * v

    def init_cache(self, batch: int, num_joints: int, like: torch.Tensor) -> dict:
        """A ring of fixed size for :meth:`step`: the keys and values of the ``window - 1``
        frames before the new one (:mod:`~dualpose.models.utils.ring_cache`), all empty at
        the start, so that every step has the same shapes (exported graphs, compiled
        steps) and copies one frame's keys per step."""
        if self.window is None:
            raise ValueError('fixed-size caches need a bounded look-back (window=W)')
        shape = (batch * num_joints, self.num_heads, self.window - 1, self.head_dim)
        return new_ring_cache(self.window - 1, like.device, k=(like.new_zeros(shape), 2),
                              v=(like.new_zeros(shape), 2))
