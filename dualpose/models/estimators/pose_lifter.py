"""PoseLifter: backbone + regression head, trained on root-relative 3D targets."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel

from dualpose.codecs import flip_pose, root_relative
from dualpose.registry import MODELS


def head_for_backbone(head: Dict, backbone) -> Dict:
    """``head`` with ``in_channels`` set to the backbone's ``embed_dims`` (checked if given)."""
    head = dict(head)
    width = getattr(backbone, 'embed_dims', None)
    if head.get('in_channels') is None:
        if width is None:
            raise ValueError(f'{type(backbone).__name__} exposes no embed_dims; give '
                             'head.in_channels in the config')
        head['in_channels'] = int(width)
    elif width is not None and int(head['in_channels']) != int(width):
        raise ValueError(f"head.in_channels={head['in_channels']} differs from the backbone's "
                         f'embed_dims={width} ({type(backbone).__name__}); leave '
                         'head.in_channels out to take the backbone\'s width')
    return head


@MODELS.register_module()
class PoseLifter(BaseModel):
    """Supervised 2D-to-3D lifter.

    Modes (mmengine): ``loss`` -> dict of losses; ``predict`` -> data samples with ``pred``
    (B x (T, J, 3), root-relative, normalised screen units); ``tensor`` -> raw head output.

    Args:
        backbone (dict): e.g. ``DualStreamFormer``; it exposes its output width as
            ``embed_dims``.
        head (dict): e.g. ``LiftingRegressionHead``; ``in_channels`` defaults to the
            backbone's ``embed_dims`` (given, it must equal it).
        test_cfg (dict): ``flip_test`` (True): average the prediction with that of the mirrored
            input, mirrored back (flip indices from the samples' metainfo).
        data_preprocessor (dict): default ``LiftingDataPreprocessor``.
    """

    # the keys test_cfg may hold (checked by dualpose.utils.config_check)
    config_keys = {'test_cfg': {'flip_test': bool}}

    def __init__(self, backbone: Dict, head: Dict, test_cfg: Optional[Dict] = None,
                 data_preprocessor: Optional[Dict] = None, init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='LiftingDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head_for_backbone(head, self.backbone))
        self.test_cfg = {'flip_test': True, **(test_cfg or {})}

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone features, frame t for input frame t (a causal backbone with look-ahead
        aligns its delayed output: ``DualStreamFormer.aligned``)."""
        if getattr(self.backbone, 'lookahead', 0):
            return self.backbone.aligned(inputs)
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

    def predict_coords(self, inputs: torch.Tensor, flip_indices: Optional[List[int]] = None,
                       root_index: int = 0) -> torch.Tensor:
        """(B, T, J, 3) inputs -> (B, T, J, 3) root-relative predictions; flip-averaged when
        ``test_cfg.flip_test`` and ``flip_indices`` is given."""
        pred = self.head(self.extract_feat(inputs))
        if self.test_cfg['flip_test'] and flip_indices is not None:
            pred_flip = self.head(self.extract_feat(flip_pose(inputs, flip_indices)))
            pred = (pred + flip_pose(pred_flip, flip_indices)) / 2
        return root_relative(pred, root_index)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        meta = data_samples[0].metainfo
        pred = self.predict_coords(inputs, meta.get('flip_indices'), meta.get('root_index', 0))
        for ds, p in zip(data_samples, pred):
            ds.pred = p
        return data_samples
