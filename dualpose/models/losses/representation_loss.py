"""The regression loss of CRL pre-training, between predicted and target representations."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from dualpose.registry import MODELS

__all__ = ['RepresentationLoss']


@MODELS.register_module()
class RepresentationLoss(nn.Module):
    """Loss between (K, C) predicted and target token representations.

    ``mode='l2'`` (data2vec 2.0): squared L2 summed over channels; ``'smooth_l1'`` (data2vec
    1.0, with ``beta``): smooth L1 summed over channels; both averaged over tokens and scaled
    by 1/sqrt(C), times ``loss_weight``.
    """

    def __init__(self, mode: str = 'l2', beta: float = 0.25, loss_weight: float = 1.0):
        super().__init__()
        if mode not in ('l2', 'smooth_l1'):
            raise ValueError(f"RepresentationLoss mode must be 'l2' or 'smooth_l1', got {mode!r}")
        self.mode, self.beta, self.loss_weight = mode, beta, float(loss_weight)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.mode == 'l2':
            per_token = (pred - target).pow(2).sum(-1)
        else:
            per_token = F.smooth_l1_loss(pred, target, reduction='none', beta=self.beta).sum(-1)
        return self.loss_weight * per_token.mean() / math.sqrt(pred.shape[-1])
