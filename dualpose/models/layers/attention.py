"""Multi-head self-attention over the joints of a frame or over the frames of a joint."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange


class MultiHeadSelfAttention(nn.Module):
    """Self-attention over the token axis of ``(B, N, C)``.

    Args:
        dim (int): channels C, divisible by ``num_heads``.
        num_heads (int): attention heads.
        use_sdpa (bool): use ``F.scaled_dot_product_attention`` (fast path); False runs the
            explicit ``softmax(q k^T / sqrt(d)) v`` (the readable reference). Both agree.
    """

    def __init__(self, dim: int, num_heads: int = 8, qkv_bias: bool = True,
                 attn_drop: float = 0.0, proj_drop: float = 0.0, use_sdpa: bool = True):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'dim {dim} must be divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.use_sdpa = use_sdpa
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, N, C) -> (B, N, C)."""
        qkv = rearrange(self.qkv(x), 'b n (three h d) -> three b h n d', three=3, h=self.num_heads)
        q, k, v = qkv.unbind(0)
        drop = self.attn_drop if self.training else 0.0
        if self.use_sdpa:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)
            attn = F.dropout(attn.softmax(dim=-1), p=drop, training=self.training)
            out = attn @ v
        out = rearrange(out, 'b h n d -> b n (h d)')
        return self.proj_drop(self.proj(out))


class SpatialAttention(MultiHeadSelfAttention):
    """Attention among the J joints of each frame: ``(B, T, J, C) -> (B, T, J, C)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, j, c = x.shape
        return super().forward(x.reshape(b * t, j, c)).reshape(b, t, j, c)


class TemporalAttention(MultiHeadSelfAttention):
    """Attention among the T frames of each joint: ``(B, T, J, C) -> (B, T, J, C)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, j, c = x.shape
        y = super().forward(rearrange(x, 'b t j c -> (b j) t c'))
        return rearrange(y, '(b j) t c -> b t j c', b=b)
