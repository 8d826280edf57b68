"""Action classification head: pooling over time and joints, then a small classifier."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from dualpose.evaluation.functional import topk_hits
from dualpose.registry import MODELS

__all__ = ['ActionClassificationHead', 'sample_labels']


def sample_labels(data_samples: List, device=None) -> torch.Tensor:
    """(B,) int64 class indices of a batch (each sample's ``gt_label``)."""
    missing = [i for i, ds in enumerate(data_samples) if 'gt_label' not in ds]
    if missing:
        raise KeyError(f'data samples {missing[:5]} have no gt_label: pack action clips with '
                       'PackActionInputs')
    return torch.stack([ds.gt_label.reshape(()) for ds in data_samples]).long().to(device)


@MODELS.register_module()
class ActionClassificationHead(BaseModule):
    """Class scores of a clip from backbone features (B, T, J, C).

    Pools over time (``temporal_pool``: ``'mean'`` or ``'max'``), then over joints
    (``joint_pool``: ``'mean'`` gives C features, ``'flatten'`` keeps each joint's: J x C),
    then ``Dropout -> [Linear(D -> hidden) -> GELU -> Dropout] -> Linear(-> num_classes)``
    (the hidden layer only with ``hidden_dims``).

    Args:
        in_channels (int): C (an :class:`ActionRecognizer` takes it from the backbone).
        num_classes (int): classes.
        num_joints (int, optional): J, needed by ``joint_pool='flatten'`` (taken from the
            backbone inside an ActionRecognizer).
        temporal_pool (str): ``'mean'`` or ``'max'``.
        joint_pool (str): ``'mean'`` or ``'flatten'``.
        hidden_dims (int, optional): width of the hidden layer; None: a linear classifier.
        dropout (float): dropout before each linear layer.
        loss (dict): a registered classification loss (``CrossEntropyLoss``, with its
            ``label_smoothing``).
    """

    def __init__(self, in_channels: int = None, num_classes: int = None,
                 num_joints: Optional[int] = None, temporal_pool: str = 'mean',
                 joint_pool: str = 'mean', hidden_dims: Optional[int] = None,
                 dropout: float = 0.0, loss: Dict = dict(type='CrossEntropyLoss'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if in_channels is None:
            raise ValueError('ActionClassificationHead needs in_channels (the backbone width '
                             'C); inside an ActionRecognizer it is taken from the backbone')
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f'ActionClassificationHead: num_classes must be an integer >= 2, '
                             f'got {num_classes!r}')
        if temporal_pool not in ('mean', 'max'):
            raise ValueError(f"temporal_pool must be 'mean' or 'max', got {temporal_pool!r}")
        if joint_pool not in ('mean', 'flatten'):
            raise ValueError(f"joint_pool must be 'mean' or 'flatten', got {joint_pool!r}")
        if joint_pool == 'flatten' and not num_joints:
            raise ValueError("joint_pool='flatten' needs num_joints (J)")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f'dropout must be in [0, 1), got {dropout!r}')
        self.in_channels, self.num_classes = int(in_channels), int(num_classes)
        self.num_joints = None if num_joints is None else int(num_joints)
        self.temporal_pool, self.joint_pool = temporal_pool, joint_pool
        width = self.in_channels * (self.num_joints if joint_pool == 'flatten' else 1)
        layers: List[nn.Module] = [nn.Dropout(dropout)]
        if hidden_dims:
            layers += [nn.Linear(width, int(hidden_dims)), nn.GELU(), nn.Dropout(dropout)]
            width = int(hidden_dims)
        self.pre_logits = nn.Sequential(*layers)
        self.fc = nn.Linear(width, self.num_classes)
        self.loss_module = MODELS.build(loss)

    def pool(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, T, J, C) -> (B, C) or (B, J * C)."""
        if feats.dim() != 4 or feats.shape[-1] != self.in_channels:
            raise ValueError(f'{type(self).__name__}: features must have shape (B, T, J, '
                             f'{self.in_channels}), got {tuple(feats.shape)}')
        x = feats.mean(1) if self.temporal_pool == 'mean' else feats.amax(1)
        if self.joint_pool == 'mean':
            return x.mean(1)
        if x.shape[1] != self.num_joints:
            raise ValueError(f"{type(self).__name__}: joint_pool='flatten' was built for "
                             f'{self.num_joints} joints, the features have {x.shape[1]}')
        return x.flatten(1)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, T, J, C) features -> (B, num_classes) logits."""
        return self.fc(self.pre_logits(self.pool(feats)))

    def loss(self, feats: torch.Tensor, data_samples: List) -> Dict[str, torch.Tensor]:
        """``loss_cls`` and, logged, the batch's ``acc_top1`` (percent, no gradient)."""
        logits = self.forward(feats)
        labels = sample_labels(data_samples, logits.device)
        out = {self.loss_module.loss_name: self.loss_module(logits, labels)}
        with torch.no_grad():
            out['acc_top1'] = topk_hits(logits, labels, 1).float().mean() * 100
        return out
