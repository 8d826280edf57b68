"""The prediction head of CRL pre-training."""
from typing import Dict

import torch
from mmengine.model import BaseModule
from torch import nn

from dualpose.registry import MODELS


@MODELS.register_module()
class CRLHead(BaseModule):
    """A linear layer mapping the student's output (B, T, J, C) to the target space, and the
    representation loss at the masked tokens.

    Args:
        in_channels (int): C (the distiller fills it in from the backbone).
        loss (dict): a registered representation loss (``RepresentationLoss``).
    """

    def __init__(self, in_channels: int = None, loss: Dict = dict(type='RepresentationLoss'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if in_channels is None:
            raise ValueError('CRLHead needs in_channels (the backbone width C); inside a '
                             'ContextualDistiller it is taken from the backbone')
        self.fc = nn.Linear(in_channels, in_channels)
        self.loss_module = MODELS.build(loss)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(feats)

    def loss(self, feats: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> Dict:
        """``loss_crl`` at the masked tokens (``mask`` (B, T, J) bool), plus ``target_std`` and
        ``pred_std``: the mean over channels of the per-channel std over masked tokens (a
        collapse to a constant shows as a std near 0)."""
        pred = self.forward(feats)
        pred_m, target_m = pred[mask], target.to(pred.dtype)[mask]
        if pred_m.shape[0] == 0:  # nothing masked (tiny inputs, low ratio): no signal
            loss = pred.sum() * 0
        else:
            loss = self.loss_module(pred_m, target_m)
        with torch.no_grad():
            stats = pred_m.shape[0] > 1
            target_std = target_m.float().std(0).mean() if stats else loss.new_zeros(())
            pred_std = pred_m.float().std(0).mean() if stats else loss.new_zeros(())
        return dict(loss_crl=loss, target_std=target_std, pred_std=pred_std)
