"""Contextualized representation learning (CRL): masked self-distillation on 2D sequences."""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModel

from dualpose.models.utils import MomentumTeacher
from dualpose.registry import MODELS


@MODELS.register_module()
class ContextualDistiller(BaseModel):
    """Pre-trains a backbone on 2D pose sequences alone (no 3D labels), wiring registered parts.

    Each step (``loss``) reads like the method:

    1. update the teacher, an EMA of the student (``MomentumTeacher``);
    2. ``target_generator`` (``TopKTargets``): the mean of the teacher's top-K normalised block
       outputs on the unmasked input, without gradients;
    3. ``masking`` (``TokenMasking``): M differently-masked copies of each sample, seen by the
       student in one batched forward (noise masking changes the input; token masking reaches
       the backbone through its one masking hook, the ``token_mask`` / ``mask_token`` /
       ``mask_position`` arguments);
    4. ``head`` (``CRLHead``): a linear prediction of the targets and the registered
       representation loss (``RepresentationLoss``) at the masked tokens.

    Logged besides ``loss_crl``: ``tau``, ``mask_ratio`` (drawn), ``target_std`` and
    ``pred_std`` (mean over channels of the per-channel std over masked tokens: a collapse to
    a constant shows up as a std near 0).

    Args:
        backbone (dict): e.g. ``DualStreamFormer``; must accept ``return_layers`` (and, for
            token masking, ``token_mask``, ``mask_token`` and ``mask_position``) and expose
            ``embed_dims``.
        masking (dict): ``TokenMasking`` arguments: ``num_masks`` (M, 3), ``ratio`` (P,
            0.7), ``span``, ``span_dim``, ``mode`` (``'noise'``, ``'noise-literal'`` or
            ``'token'``), ``noise_std``, ``noise_scale``, ``masked_confidence``,
            ``token_position``.
        target_generator (dict): ``TopKTargets`` arguments: ``top_k`` (K, 8, clamped to the
            backbone depth), ``norm`` (``'instance'``, ``'layer'`` or ``'none'``).
        head (dict): ``CRLHead`` with its ``loss`` (``RepresentationLoss``: ``mode`` ``'l2'``
            or ``'smooth_l1'``).
        teacher (dict): ``MomentumTeacher`` arguments: ``tau_start`` (0.999), ``tau_end``
            (0.9999), ``tau_iters``, ``frozen``; and ``share_embedding`` (False): the teacher
            uses the student's input and position embeddings (the backbone's
            ``embedding_names``) instead of their moving average, as data2vec shares its
            feature encoder; only the blocks are averaged.
    """

    # the keys the teacher dict takes (checked by dualpose.utils.config_check)
    config_keys = {'teacher': ('tau_start', 'tau_end', 'tau_iters', 'frozen', 'use_foreach',
                               'shared', 'share_embedding')}

    def __init__(self, backbone: Dict, masking: Optional[Dict] = None,
                 target_generator: Optional[Dict] = None, head: Optional[Dict] = None,
                 teacher: Optional[Dict] = None, data_preprocessor: Optional[Dict] = None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='LiftingDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        dim = self.backbone.embed_dims
        target_generator = dict(dict(type='TopKTargets'), **(target_generator or {}))
        target_generator['top_k'] = min(target_generator.get('top_k', 8), self.backbone.depth)
        self.target_generator = MODELS.build(target_generator)
        self.head = MODELS.build(dict(dict(type='CRLHead', in_channels=dim), **(head or {})))
        masking = dict(dict(type='TokenMasking'), **(masking or {}))
        if masking.get('mode') == 'token':
            masking.setdefault('embed_dims', dim)
        self.masking = MODELS.build(masking)
        teacher = dict(teacher or {})
        if teacher.pop('share_embedding', False):
            names = getattr(self.backbone, 'embedding_names', None)
            if not names:
                raise ValueError(
                    f'teacher.share_embedding=True: the backbone {type(self.backbone).__name__} '
                    'names no embedding parameters (an embedding_names attribute)')
            params = dict(self.backbone.named_parameters())
            teacher['shared'] = tuple(n for n in names if any(
                k == n or k.startswith(n + '.') for k in params))
        self.teacher = MomentumTeacher(self.backbone, **teacher)

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
        target = self.target_generator(self.teacher.module, inputs)
        x, mask, hook = self.masking(inputs)
        feats = self.backbone(x, **hook)
        losses = self.head.loss(feats, target.repeat(self.masking.num_masks, 1, 1, 1), mask)
        loss = losses['loss_crl']
        return dict(losses, tau=loss.new_tensor(tau), mask_ratio=mask.float().mean())
