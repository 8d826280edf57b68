import torch
import torch.nn as nn
from einops import rearrange

from dualpose.models.layers import SkeletonGraphConv
from dualpose.models.streams import BaseStream
from dualpose.registry import MODELS


class DilatedTemporalConv(nn.Module):
    """Depthwise dilated convolutions over the frames of each joint, summed:
    (B, T, J, C) -> (B, T, J, C). Padding keeps T, so any sequence length works."""

    def __init__(self, dim: int, kernel_size: int = 3, dilations=(1, 2)):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(dim, dim, kernel_size, padding=d * (kernel_size - 1) // 2, dilation=d,
                      groups=dim) for d in dilations)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        y = rearrange(x, 'b t j c -> (b j) c t')
        y = sum(conv(y) for conv in self.convs)
        return self.proj(rearrange(y, '(b j) c t -> b t j c', b=b))


@MODELS.register_module()
class TemporalConvStream(BaseStream):
    """A GCN-like stream whose temporal part is a dilated temporal convolution instead of a
    temporal graph: skeleton graph convolution, then ``DilatedTemporalConv``. It follows the
    stream contract of ``BaseStream`` (built with dim, mlp_ratio, drop_path, layer_scale_init,
    skeleton_links and num_joints by the dual-stream block)."""

    def __init__(self, dim: int, kernel_size: int = 3, dilations=(1, 2), **kwargs):
        super().__init__(dim, **kwargs)
        self.spatial = self._metaformer(
            SkeletonGraphConv(dim, kwargs['skeleton_links'], kwargs['num_joints']))
        self.temporal = self._metaformer(DilatedTemporalConv(dim, kernel_size, dilations))
