"""A per-frame MLP lifter (residual blocks in the style of Martinez et al. 2017): a baseline
with no temporal context."""
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from dualpose.registry import MODELS


class _ResidualLinear(nn.Module):

    def __init__(self, dim: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(dim, dim), nn.LayerNorm(dim),
                                 nn.ReLU(), nn.Dropout(dropout))

    def forward(self, x):
        return x + self.net(x)


@MODELS.register_module()
class FrameMLP(BaseModule):
    """Lifts each frame on its own: (B, T, J, in_channels) -> features (B, T, J, embed_dims).

    Args:
        num_joints (int): J, from the dataset metainfo.
        in_channels (int): per-joint input features (3).
        hidden_dims (int): width of the residual MLP (1024).
        num_blocks (int): residual blocks (2).
        embed_dims (int): per-joint output features for the head.
    """

    def __init__(self, num_joints: int, in_channels: int = 3, hidden_dims: int = 1024,
                 num_blocks: int = 2, embed_dims: int = 64, dropout: float = 0.1,
                 skeleton_links=None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.num_joints, self.in_channels, self.embed_dims = num_joints, in_channels, embed_dims
        self.inp = nn.Linear(num_joints * in_channels, hidden_dims)
        self.blocks = nn.Sequential(*[_ResidualLinear(hidden_dims, dropout)
                                      for _ in range(num_blocks)])
        self.out = nn.Linear(hidden_dims, num_joints * embed_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[2:] != (self.num_joints, self.in_channels):
            raise ValueError(f'FrameMLP expects (B, T, {self.num_joints}, {self.in_channels}), '
                             f'got {tuple(x.shape)}')
        b, t = x.shape[:2]
        y = self.out(self.blocks(self.inp(x.reshape(b, t, -1))))
        return y.reshape(b, t, self.num_joints, self.embed_dims)
