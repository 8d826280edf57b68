"""3D regression head: ``Linear(C -> 512) + Tanh -> Linear(512 -> 3)`` per token."""
from typing import Dict, List, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from dualpose.codecs import root_relative
from dualpose.registry import MODELS


@MODELS.register_module()
class LiftingRegressionHead(BaseModule):
    """Regresses root-relative 3D joints (normalised screen units) from backbone features.

    Args:
        in_channels (int): backbone channels C (:class:`PoseLifter` fills it in from the
            backbone's ``embed_dims``).
        hidden_dims (int): hidden width (512).
        out_channels (int): 3.
        loss (dict | list[dict]): loss configs, each with its ``loss_weight`` (the paper:
            MPJPE 1, N-MPJPE 0.5, velocity 20).
    """

    def __init__(self, in_channels: int = None, hidden_dims: int = 512, out_channels: int = 3,
                 loss: Union[Dict, Sequence[Dict]] = dict(type='MPJPELoss'), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if in_channels is None:
            raise ValueError('LiftingRegressionHead needs in_channels (the backbone width C); '
                             'inside a PoseLifter it is taken from the backbone')
        self.pre_logits = nn.Sequential(nn.Linear(in_channels, hidden_dims), nn.Tanh())
        self.fc = nn.Linear(hidden_dims, out_channels)
        losses = [loss] if isinstance(loss, dict) else list(loss)
        self.losses = nn.ModuleList(MODELS.build(cfg) for cfg in losses)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """feats (B, T, J, C) -> (B, T, J, 3)."""
        return self.fc(self.pre_logits(feats))

    def loss(self, feats: torch.Tensor, data_samples: List) -> Dict[str, torch.Tensor]:
        root = data_samples[0].metainfo.get('root_index', 0)
        pred = root_relative(self.forward(feats), root)
        target = torch.stack([ds.gt_target for ds in data_samples]).to(pred)
        if target.shape != pred.shape:
            raise ValueError(f'target shape {tuple(target.shape)} does not match prediction '
                             f'shape {tuple(pred.shape)}')
        out = {}
        for loss_fn in self.losses:
            out[loss_fn.loss_name] = loss_fn(pred, target)
        return out
