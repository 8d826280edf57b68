"""Fusion of the Transformer and GCN streams, per token."""
from typing import List

import torch
import torch.nn as nn

from dualpose.registry import MODELS


@MODELS.register_module()
class AdaptiveFusion(nn.Module):
    """``alpha = softmax(Linear(S*C -> S)(concat[x_1..x_S]))`` per token; output
    ``sum_s alpha_s * x_s``. Zero-initialised, so every stream starts with weight 1/S."""

    def __init__(self, dim: int, num_streams: int = 2):
        super().__init__()
        self.fc = nn.Linear(dim * num_streams, num_streams)
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, streams: List[torch.Tensor]) -> torch.Tensor:
        """streams: S tensors (B, T, J, C) -> (B, T, J, C)."""
        alpha = self.fc(torch.cat(streams, dim=-1)).softmax(dim=-1)
        out = streams[0] * alpha[..., 0:1]
        for s in range(1, len(streams)):
            out = out + streams[s] * alpha[..., s:s + 1]
        return out


@MODELS.register_module()
class MeanFusion(nn.Module):
    """Plain mean of the streams (the ablation alternative to adaptive fusion)."""

    def __init__(self, dim: int = None, num_streams: int = 2):
        super().__init__()

    def forward(self, streams: List[torch.Tensor]) -> torch.Tensor:
        return torch.stack(streams, dim=0).mean(dim=0)
