import torch
import torch.nn as nn
from mmcv.cnn.bricks import DropPath

from .mlp import Mlp


class MetaFormerBlock(nn.Module):
    """``x = x + DropPath(ls1 * mixer(LN(x)))``; ``x = x + DropPath(ls2 * MLP(LN(x)))``.

    Args:
        dim (int): channels.
        mixer (nn.Module): token mixer on (B, T, J, C): attention or graph convolution.
        mlp_ratio (float): MLP hidden ratio.
        drop_path (float): stochastic depth rate.
        layer_scale_init (float | None): initial layer scale (1e-5); None disables it.
    """

    def __init__(self, dim: int, mixer: nn.Module, mlp_ratio: float = 4.0, drop: float = 0.0,
                 drop_path: float = 0.0, layer_scale_init: float = 1e-5):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.mixer = mixer
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, mlp_ratio, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        if layer_scale_init is None:
            self.ls1 = self.ls2 = None
        else:
            self.ls1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))
            self.ls2 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mixer(self.norm1(x))
        x = x + self.drop_path(y if self.ls1 is None else self.ls1 * y)
        y = self.mlp(self.norm2(x))
        return x + self.drop_path(y if self.ls2 is None else self.ls2 * y)
