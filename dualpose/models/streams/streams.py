"""The two streams of a dual-stream block. Each is two MetaFormer sub-blocks on (B, T, J, C):
a spatial one (over the joints of each frame) then a temporal one (over the frames of each joint).
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from dualpose.models.layers import (MetaFormerBlock, SkeletonGraphConv, SpatialAttention,
                                    TemporalAttention, TemporalGraphConv)
from dualpose.registry import MODELS


class BaseStream(nn.Module):
    """Contract of a stream. The block that builds a stream passes these keywords to every
    stream config: ``dim``, ``mlp_ratio``, ``drop_path``, ``layer_scale_init``,
    ``skeleton_links`` and ``num_joints`` (a stream may ignore the skeleton). ``forward`` maps
    (B, T, J, C) to (B, T, J, C). A causal backbone also passes ``causal=True`` and
    ``window``; a stream that supports live lifting implements :meth:`step`."""

    def __init__(self, dim: int, mlp_ratio: float = 4.0, drop_path: float = 0.0,
                 layer_scale_init: Optional[float] = 1e-5,
                 skeleton_links: Optional[Sequence[Tuple[int, int]]] = None,
                 num_joints: Optional[int] = None):
        super().__init__()
        self.dim = dim
        self._block_kwargs = dict(mlp_ratio=mlp_ratio, drop_path=drop_path,
                                  layer_scale_init=layer_scale_init)

    def _metaformer(self, mixer: nn.Module) -> MetaFormerBlock:
        return MetaFormerBlock(self.dim, mixer, **self._block_kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal(self.spatial(x))

    def step(self, x: torch.Tensor, cache: dict) -> torch.Tensor:
        """One new frame (B, 1, J, C) of a causal stream; ``cache`` (a dict, empty at the
        first frame) holds what the temporal mixer keeps of the earlier frames."""
        return self.temporal.step(self.spatial(x), cache)

    def init_cache(self, batch: int, num_joints: int, like: torch.Tensor) -> dict:
        """A fixed-size cache for :meth:`step` (its temporal mixer's)."""
        return self.temporal.mixer.init_cache(batch, num_joints, like)


@MODELS.register_module()
class TransformerStream(BaseStream):
    """Spatial self-attention then temporal self-attention (global relations).

    Args:
        num_heads (int): attention heads (8).
        attn_impl (str): how attention is computed: ``'sdpa'`` (default,
            ``F.scaled_dot_product_attention``), ``'math'`` (the explicit reference) or
            ``'fused'`` (compiled kernels, :mod:`dualpose.ops`: AVX2 on CPU for float32
            inference, CUDA on GPU; ``'sdpa'`` with a log line wherever neither runs).
        use_sdpa (bool, optional): the older switch (True = ``'sdpa'``, False = ``'math'``).
    """

    def __init__(self, dim: int, num_heads: int = 8, qkv_bias: bool = True,
                 attn_drop: float = 0.0, attn_impl: Optional[str] = None,
                 use_sdpa: Optional[bool] = None, causal: bool = False,
                 window: Optional[int] = None, **kwargs):
        super().__init__(dim, **kwargs)
        attn = dict(num_heads=num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop,
                    attn_impl=attn_impl, use_sdpa=use_sdpa)
        self.spatial = self._metaformer(SpatialAttention(dim, **attn))
        self.temporal = self._metaformer(
            TemporalAttention(dim, causal=causal, window=window, **attn))


@MODELS.register_module()
class GCNStream(BaseStream):
    """Skeleton graph convolution then temporal graph convolution (local structure).

    Args:
        temporal_graph (str): ``'banded'`` (the paper: t linked to t+1) or ``'knn'`` (the
            k most similar frames, as MotionAGFormer's temporal GCN).
        k (int): neighbours for ``'knn'``.
        knn_self (bool): for ``'knn'``: whether a frame may count among its own k
            neighbours (True: MotionAGFormer's top-k) or only other frames (False).
    """

    def __init__(self, dim: int, temporal_graph: str = 'banded', k: int = 2,
                 knn_self: bool = True, causal: bool = False, window: Optional[int] = None,
                 **kwargs):
        super().__init__(dim, **kwargs)
        if kwargs.get('skeleton_links') is None or kwargs.get('num_joints') is None:
            raise ValueError('GCNStream needs skeleton_links and num_joints (from the dataset '
                             'metainfo)')
        self.spatial = self._metaformer(
            SkeletonGraphConv(dim, kwargs['skeleton_links'], kwargs['num_joints']))
        self.temporal = self._metaformer(TemporalGraphConv(
            dim, mode=temporal_graph, k=k, knn_self=knn_self, causal=causal, window=window))
