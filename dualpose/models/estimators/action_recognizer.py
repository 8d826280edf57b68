"""ActionRecognizer: the lifting backbone, pooled, and a classification head."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel

from dualpose.codecs import flip_pose
from dualpose.registry import MODELS
from .pose_lifter import head_for_backbone


@MODELS.register_module()
class ActionRecognizer(BaseModel):
    """Classifies the action of a 2D pose clip with a (pre-trained) lifting backbone.

    ``backbone`` (e.g. ``DualStreamFormer``, optionally initialised from a CRL pre-training
    with ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``) gives
    features (B, T, J, C); ``head`` (``ActionClassificationHead``) pools them over time and
    joints and scores the classes.

    Modes (mmengine): ``loss`` -> dict of losses (``loss_cls``, logged ``acc_top1``);
    ``predict`` -> data samples with ``pred_score`` (num_classes,) probabilities and
    ``pred_label``; ``tensor`` -> (B, num_classes) logits.

    Args:
        backbone (dict): exposes ``embed_dims`` (the head's ``in_channels``) and
            ``num_joints``.
        head (dict): ``in_channels`` and ``num_joints`` default to the backbone's.
        frozen (Sequence[str]): ``('backbone',)`` trains the head alone on fixed features (a
            linear probe when the head has no hidden layer): the backbone keeps
            ``requires_grad=False``, eval mode, and runs without gradients.
        test_cfg (dict): ``flip_test`` (False): average the probabilities of the clip and its
            left-right mirror (flip indices from the samples' metainfo).
        data_preprocessor (dict): default ``LiftingDataPreprocessor``.
    """

    config_keys = {'test_cfg': {'flip_test': bool}}

    def __init__(self, backbone: Dict, head: Dict, frozen: Sequence[str] = (),
                 test_cfg: Optional[Dict] = None, data_preprocessor: Optional[Dict] = None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='LiftingDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        head = head_for_backbone(head, self.backbone)
        if head.get('joint_pool') == 'flatten' and head.get('num_joints') is None:
            head['num_joints'] = getattr(self.backbone, 'num_joints', None)
        self.head = MODELS.build(head)
        frozen = (frozen, ) if isinstance(frozen, str) else tuple(frozen)
        if [f for f in frozen if f != 'backbone']:
            raise ValueError(f"ActionRecognizer: frozen={list(frozen)}: only 'backbone' can be "
                             'frozen (the head is what is trained)')
        self.frozen = frozen
        if frozen:
            self.backbone.requires_grad_(False)
        self.test_cfg = {'flip_test': False, **(test_cfg or {})}

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
        return self

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, T, J, 3) inputs -> (B, T, J, C) backbone features."""
        if self.frozen:
            with torch.no_grad():
                return self.backbone(inputs)
        return self.backbone(inputs)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None,
                mode: str = 'tensor') -> Union[Dict, List, torch.Tensor]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(self.extract_feat(inputs))
        raise ValueError(f"invalid mode {mode!r}; expected 'loss', 'predict' or 'tensor'")

    def loss(self, inputs: torch.Tensor, data_samples: List) -> Dict[str, torch.Tensor]:
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict_scores(self, inputs: torch.Tensor,
                       flip_indices: Optional[List[int]] = None) -> torch.Tensor:
        """(B, T, J, 3) inputs -> (B, num_classes) probabilities; flip-averaged when
        ``test_cfg.flip_test`` and ``flip_indices`` is given."""
        probs = self.head(self.extract_feat(inputs)).softmax(-1)
        if self.test_cfg['flip_test'] and flip_indices is not None:
            flipped = self.head(self.extract_feat(flip_pose(inputs, flip_indices)))
            probs = (probs + flipped.softmax(-1)) / 2
        return probs

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        probs = self.predict_scores(inputs, data_samples[0].metainfo.get('flip_indices'))
        for ds, p in zip(data_samples, probs):
            ds.pred_score = p
            ds.pred_label = p.argmax()
        return data_samples
