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
        fold_layer_scale (bool): hand the layer scale to branches that fold it into their
            last linear layer (``takes_out_scale``: attention, MLP), which saves a pass over
            the tokens and an activation per branch; False multiplies the branch output (the
            reference). Both compute the same block.
    """

    def __init__(self, dim: int, mixer: nn.Module, mlp_ratio: float = 4.0, drop: float = 0.0,
                 drop_path: float = 0.0, layer_scale_init: float = 1e-5,
                 fold_layer_scale: bool = True):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.mixer = mixer
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, mlp_ratio, drop)
        self.fold_layer_scale = fold_layer_scale
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        if layer_scale_init is None:
            self.ls1 = self.ls2 = None
        else:
            self.ls1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))
            self.ls2 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def _branch(self, fn: nn.Module, x: torch.Tensor, scale) -> torch.Tensor:
        """``scale * fn(x)``."""
        if scale is None:
            return fn(x)
        if self.fold_layer_scale and getattr(fn, 'takes_out_scale', False):
            return fn(x, out_scale=scale)
        return scale * fn(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self._branch(self.mixer, self.norm1(x), self.ls1))
        return x + self.drop_path(self._branch(self.mlp, self.norm2(x), self.ls2))

    def step(self, x: torch.Tensor, cache: dict) -> torch.Tensor:
        """One new frame (B, 1, J, C) of a causal model: the mixer's ``step`` with its
        ``cache`` (temporal mixers), else its plain forward (per-frame mixers)."""
        if not hasattr(self.mixer, 'step'):
            return self.forward(x)
        h, scale = self.norm1(x), self.ls1
        if scale is None:
            mixed = self.mixer.step(h, cache)
        elif self.fold_layer_scale and getattr(self.mixer, 'takes_out_scale', False):
            mixed = self.mixer.step(h, cache, out_scale=scale)
        else:
            mixed = scale * self.mixer.step(h, cache)
        x = x + self.drop_path(mixed)
        return x + self.drop_path(self._branch(self.mlp, self.norm2(x), self.ls2))
