"""Fusion of the Transformer and GCN streams, per token."""
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from dualpose.registry import MODELS


@MODELS.register_module()
class AdaptiveFusion(nn.Module):
    """``alpha = softmax(Linear(S*C -> S)(concat[x_1..x_S]))`` per token; output
    ``sum_s alpha_s * x_s``. Zero-initialised, so every stream starts with weight 1/S.

    ``forward`` applies the linear layer stream by stream (column blocks of its weight), so
    the (tokens, S*C) concatenation is never built, and mixes two streams with one ``lerp``;
    :meth:`forward_reference` is the equation as written. They agree.
    """

    def __init__(self, dim: int, num_streams: int = 2):
        super().__init__()
        self.fc = nn.Linear(dim * num_streams, num_streams)
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def weights(self, streams: List[torch.Tensor]) -> torch.Tensor:
        """(B, T, J, S) softmax weights of the streams."""
        c = streams[0].shape[-1]
        logits = self.fc.bias
        for s, x in enumerate(streams):
            logits = logits + F.linear(x, self.fc.weight[:, s * c:(s + 1) * c])
        return logits.softmax(dim=-1)

    def forward(self, streams: List[torch.Tensor]) -> torch.Tensor:
        """streams: S tensors (B, T, J, C) -> (B, T, J, C)."""
        alpha = self.weights(streams)
        if len(streams) == 2:  # x_1 + alpha_0 (x_0 - x_1); one dtype for lerp (autocast)
            dtype = torch.promote_types(streams[0].dtype, streams[1].dtype)
            return torch.lerp(streams[1].to(dtype), streams[0].to(dtype),
                              alpha[..., 0:1].to(dtype))
        out = streams[0] * alpha[..., 0:1]
        for s in range(1, len(streams)):
            out = out + streams[s] * alpha[..., s:s + 1]
        return out

    def forward_reference(self, streams: List[torch.Tensor]) -> torch.Tensor:
        alpha = self.fc(torch.cat(streams, dim=-1)).softmax(dim=-1)
        return sum(x * alpha[..., s:s + 1] for s, x in enumerate(streams))


@MODELS.register_module()
class MeanFusion(nn.Module):
    """Plain mean of the streams (the ablation alternative to adaptive fusion)."""

    def __init__(self, dim: int = None, num_streams: int = 2):
        super().__init__()

    def forward(self, streams: List[torch.Tensor]) -> torch.Tensor:
        return torch.stack(streams, dim=0).mean(dim=0)
