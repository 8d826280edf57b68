"""Contextualized representation learning (CRL): masked self-distillation on 2D sequences."""
import math
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from dualpose.models.utils import MomentumTeacher, draw_token_mask
from dualpose.registry import MODELS


def normalize_layer(feats: torch.Tensor, mode: str) -> torch.Tensor:
    """Parameter-free normalisation of one block output (B, T, J, C) before averaging.

    ``'instance'``: per sample, joint and channel over the T frames; ``'layer'``: per token
    over the C channels; ``'none'``: unchanged.
    """
    if mode == 'instance':
        b, t, j, c = feats.shape
        x = feats.permute(0, 2, 3, 1).reshape(b * j, c, t)
        x = F.instance_norm(x.float(), eps=1e-5) if t > 1 else x - x.mean(-1, keepdim=True)
        return x.reshape(b, j, c, t).permute(0, 3, 1, 2)
    if mode == 'layer':
        return F.layer_norm(feats.float(), feats.shape[-1:], eps=1e-5)
    if mode == 'none':
        return feats
    raise ValueError(f"target_norm must be 'instance', 'layer' or 'none', got {mode!r}")


@MODELS.register_module()
class ContextualDistiller(BaseModel):
    """Pre-trains a backbone on 2D pose sequences alone (no 3D labels).

    Each step (``loss``):

    1. update the teacher, an EMA of the student (``MomentumTeacher``);
    2. targets: the teacher sees the unmasked input; the mean of its top-K block outputs,
       each normalised first (``target_norm``), under ``no_grad``;
    3. the student sees ``num_masks`` differently-masked copies of each sample in one
       batched forward: masked (frame, joint) tokens have their 2D features replaced by
       Gaussian noise (``mask_mode='noise'``, the paper) or their embedding replaced by a
       learned mask token (``'token'``, the public code);
    4. a linear prediction head maps the student's output to the target space; the loss is
       taken at masked positions only: squared L2 summed over channels and scaled by
       1/sqrt(C) (``loss_type='l2'``), or smooth L1 scaled the same way.

    Logged besides ``loss_crl``: ``tau``, ``mask_ratio`` (drawn), ``target_std`` and
    ``pred_std`` (mean over channels of the per-channel std over masked tokens: a collapse to
    a constant shows up as a std near 0).

    Args:
        backbone (dict): e.g. ``DualStreamFormer``; must accept ``return_layers``,
            ``token_mask`` and ``mask_token``, and expose ``embed_dims`` and ``in_channels``.
        num_masks (int): M masked copies per sample (3).
        mask_ratio (float): P (0.7).
        mask_span (int): 1 = independent tokens; > 1 = runs of this many frames / joints.
        mask_span_dim (str): ``'time'`` or ``'joint'``.
        mask_mode (str): ``'noise'`` or ``'token'``.
        noise_std (float): std of the replacement noise (normalised screen units).
        top_k (int): K (8), clamped to the backbone depth.
        target_norm (str): ``'instance'``, ``'layer'`` or ``'none'``.
        loss_type (str): ``'l2'`` or ``'smooth_l1'`` (with ``smooth_l1_beta``).
        teacher (dict): ``MomentumTeacher`` arguments: ``tau_start`` (0.999), ``tau_end``
            (0.9999), ``tau_iters``, ``frozen``.
    """

    def __init__(self, backbone: Dict, num_masks: int = 3, mask_ratio: float = 0.7,
                 mask_span: int = 1, mask_span_dim: str = 'time', mask_mode: str = 'noise',
                 noise_std: float = 1.0, top_k: int = 8, target_norm: str = 'instance',
                 loss_type: str = 'l2', smooth_l1_beta: float = 0.25,
                 teacher: Optional[Dict] = None, data_preprocessor: Optional[Dict] = None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='LiftingDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if mask_mode not in ('noise', 'token'):
            raise ValueError(f"mask_mode must be 'noise' or 'token', got {mask_mode!r}")
        if loss_type not in ('l2', 'smooth_l1'):
            raise ValueError(f"loss_type must be 'l2' or 'smooth_l1', got {loss_type!r}")
        if num_masks < 1:
            raise ValueError(f'num_masks must be >= 1, got {num_masks}')
        normalize_layer(torch.zeros(1, 1, 1, 1), target_norm)  # validates the name
        self.backbone = MODELS.build(backbone)
        dim = self.backbone.embed_dims
        self.num_masks, self.mask_ratio = num_masks, mask_ratio
        self.mask_span, self.mask_span_dim = mask_span, mask_span_dim
        self.mask_mode, self.noise_std = mask_mode, noise_std
        self.top_k = min(top_k, self.backbone.depth)
        self.target_norm, self.loss_type, self.smooth_l1_beta = target_norm, loss_type, smooth_l1_beta
        self.pred_head = nn.Linear(dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(dim)) if mask_mode == 'token' else None
        if self.mask_token is not None:
            nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.teacher = MomentumTeacher(self.backbone, **(teacher or {}))

    # ----------------------------------------------------------------- pieces
    @torch.no_grad()
    def compute_targets(self, inputs: torch.Tensor) -> torch.Tensor:
        """Mean of the teacher's top-K normalised block outputs: (B, T, J, C)."""
        self.teacher.module.train(False)
        _, layers = self.teacher.module(inputs, return_layers=True)
        top = layers[-self.top_k:]
        target = normalize_layer(top[0], self.target_norm)
        for layer in top[1:]:
            target = target + normalize_layer(layer, self.target_norm)
        return target / len(top)

    def mask_inputs(self, inputs: torch.Tensor):
        """M masked copies: returns (M*B, T, J, 3) inputs, (M*B, T, J) bool mask."""
        x = inputs.repeat(self.num_masks, 1, 1, 1)
        mask = draw_token_mask(x.shape[:3], self.mask_ratio, self.mask_span,
                               self.mask_span_dim, device=x.device)
        if self.mask_mode == 'noise':
            x = torch.where(mask.unsqueeze(-1), torch.randn_like(x) * self.noise_std, x)
        return x, mask

    def regression_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """pred, target: (K, C) at masked tokens -> scalar."""
        if self.loss_type == 'l2':
            per_token = (pred - target).pow(2).sum(-1)
        else:
            per_token = F.smooth_l1_loss(pred, target, reduction='none',
                                         beta=self.smooth_l1_beta).sum(-1)
        return per_token.mean() / math.sqrt(pred.shape[-1])

    # ----------------------------------------------------------------- modes
    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self.backbone(inputs)
        if mode == 'predict':
            raise RuntimeError(
                'ContextualDistiller pre-trains a backbone and predicts no 3D poses: fine-tune '
                'it with a PoseLifter config (e.g. configs/dualpose_finetune.py) and test that')
        raise ValueError(f"invalid mode {mode!r}; expected 'loss' or 'tensor'")

    def loss(self, inputs: torch.Tensor, data_samples: Optional[List] = None) -> Dict:
        tau = self.teacher.tau
        self.teacher.update_parameters(self.backbone)
        target = self.compute_targets(inputs)
        x, mask = self.mask_inputs(inputs)
        if self.mask_mode == 'token':
            feats = self.backbone(x, token_mask=mask, mask_token=self.mask_token)
        else:
            feats = self.backbone(x)
        pred = self.pred_head(feats)
        target = target.repeat(self.num_masks, 1, 1, 1).to(pred.dtype)
        pred_m, target_m = pred[mask], target[mask]
        if pred_m.shape[0] == 0:  # nothing masked (tiny inputs, low ratio): no signal
            loss = pred.sum() * 0
        else:
            loss = self.regression_loss(pred_m, target_m)
        with torch.no_grad():
            stats = pred_m.shape[0] > 1
            target_std = target_m.float().std(0).mean() if stats else loss.new_zeros(())
            pred_std = pred_m.float().std(0).mean() if stats else loss.new_zeros(())
        return dict(loss_crl=loss, tau=loss.new_tensor(tau),
                    mask_ratio=mask.float().mean(), target_std=target_std, pred_std=pred_std)
