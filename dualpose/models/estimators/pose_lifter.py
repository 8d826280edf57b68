"""PoseLifter: backbone + regression head, trained on root-relative 3D targets; optionally a
trajectory head for the root's camera-space position."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

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
        traj_head (dict, optional): e.g. ``TrajectoryHead``: the root's camera-space position
            per frame (``predict`` then also gives ``pred_root_camera`` (T, 3) mm).
        frozen (Sequence[str]): parts not trained, of ``'backbone'``, ``'head'``: their
            weights keep ``requires_grad=False``, they stay in eval mode, and a frozen
            backbone runs without gradients (a trajectory head trained on a finished
            lifter, whose poses then stay exactly as they were).
        test_cfg (dict): ``flip_test`` (True): average the prediction with that of the mirrored
            input, mirrored back (flip indices from the samples' metainfo).
        data_preprocessor (dict): default ``LiftingDataPreprocessor``.
    """

    # the keys test_cfg may hold (checked by dualpose.utils.config_check)
    config_keys = {'test_cfg': {'flip_test': bool}}

    def __init__(self, backbone: Dict, head: Dict, traj_head: Optional[Dict] = None,
                 frozen: Sequence[str] = (), test_cfg: Optional[Dict] = None,
                 data_preprocessor: Optional[Dict] = None, init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='LiftingDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head_for_backbone(head, self.backbone))
        self.traj_head = None if traj_head is None else MODELS.build(
            head_for_backbone(traj_head, self.backbone))
        frozen = (frozen, ) if isinstance(frozen, str) else tuple(frozen)
        unknown = [f for f in frozen if f not in ('backbone', 'head')]
        if unknown:
            raise ValueError(f"PoseLifter: frozen={list(frozen)}: {unknown} unknown; choose "
                             "from 'backbone', 'head'")
        if 'head' in frozen and self.traj_head is None:
            raise ValueError("PoseLifter: frozen=('head', ...) leaves nothing to train without "
                             'a traj_head')
        self.frozen = frozen
        for name in frozen:
            getattr(self, name).requires_grad_(False)
        self.test_cfg = {'flip_test': True, **(test_cfg or {})}
        # what computes the tensors at inference instead of the torch modules (an ONNX Runtime
        # session, a reduced-precision copy): dualpose.deploy.attach_backend sets it
        self.deploy_backend = None

    def train(self, mode: bool = True):
        super().train(mode)
        for name in self.frozen:   # frozen parts keep their eval behaviour (no drop path)
            getattr(self, name).eval()
        return self

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
            return self.head_outputs(inputs, with_trajectory=False)[0]
        raise ValueError(f"invalid mode {mode!r}; expected 'loss', 'predict' or 'tensor'")

    def heads_forward(self, inputs: torch.Tensor, with_trajectory: bool = True,
                      root_index: int = 0) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """One pass of the torch modules: ``(pose (B, T, J, 3) as the head gives it,
        trajectory (B, T, 3) or None)``; the trajectory only with a trajectory head and
        ``with_trajectory``. The function an ONNX export of the model computes."""
        feats = self.extract_feat(inputs)
        traj = None
        if with_trajectory and self.traj_head is not None:
            traj = self.traj_head(feats, inputs, root_index)
        return self.head(feats), traj

    def head_outputs(self, inputs: torch.Tensor, with_trajectory: bool = True,
                     root_index: int = 0) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """:meth:`heads_forward`, or, with a deployment backend attached
        (``deploy_backend``: ONNX Runtime, bf16, int8; :func:`dualpose.deploy.attach_backend`),
        the same tensors from it. Every prediction (``predict``, ``predict_coords``, the
        ``tensor`` mode) goes through here, so flip test and the windows of the inference API
        work alike on every backend."""
        if self.deploy_backend is not None:
            return self.deploy_backend(inputs, with_trajectory, root_index)
        return self.heads_forward(inputs, with_trajectory, root_index)

    def loss(self, inputs: torch.Tensor, data_samples: List) -> Dict[str, torch.Tensor]:
        if self.deploy_backend is not None:
            raise RuntimeError(
                f'PoseLifter: a deployment backend is attached '
                f'({getattr(self.deploy_backend, "description", self.deploy_backend)}); it '
                'predicts only: train the torch model (deploy_backend = None)')
        if 'backbone' in self.frozen:
            with torch.no_grad():
                feats = self.extract_feat(inputs)
        else:
            feats = self.extract_feat(inputs)
        out = {} if 'head' in self.frozen else self.head.loss(feats, data_samples)
        if self.traj_head is not None:
            out.update(self.traj_head.loss(feats, inputs, data_samples))
        return out

    def predict_coords(self, inputs: torch.Tensor, flip_indices: Optional[List[int]] = None,
                       root_index: int = 0) -> torch.Tensor:
        """(B, T, J, 3) inputs -> (B, T, J, 3) root-relative predictions; flip-averaged when
        ``test_cfg.flip_test`` and ``flip_indices`` is given."""
        pred = self.head_outputs(inputs, False, root_index)[0]
        if self.test_cfg['flip_test'] and flip_indices is not None:
            pred_flip = self.head_outputs(flip_pose(inputs, flip_indices), False, root_index)[0]
            pred = (pred + flip_pose(pred_flip, flip_indices)) / 2
        return root_relative(pred, root_index)

    def predict_with_trajectory(self, inputs: torch.Tensor,
                                flip_indices: Optional[List[int]] = None, root_index: int = 0
                                ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """(B, T, J, 3) inputs -> ``(pose (B, T, J, 3) root-relative, trajectory (B, T, 3)
        (du, dv, d) or None without a trajectory head)``, both flip-averaged like
        :meth:`predict_coords` (a mirrored ``du`` changes sign)."""
        pred, traj = self.head_outputs(inputs, True, root_index)
        if self.test_cfg['flip_test'] and flip_indices is not None:
            pred_flip, traj_flip = self.head_outputs(flip_pose(inputs, flip_indices), True,
                                                     root_index)
            pred = (pred + flip_pose(pred_flip, flip_indices)) / 2
            if traj is not None:
                mirror = torch.tensor([-1.0, 1.0, 1.0], dtype=traj.dtype, device=traj.device)
                traj = (traj + traj_flip * mirror) / 2
        return root_relative(pred, root_index), traj

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        meta = data_samples[0].metainfo
        root = meta.get('root_index', 0)
        pred, traj = self.predict_with_trajectory(inputs, meta.get('flip_indices'), root)
        roots = None if traj is None else self.traj_head.decode(traj, inputs, data_samples,
                                                                root)
        for i, (ds, p) in enumerate(zip(data_samples, pred)):
            ds.pred = p
            if roots is not None:   # (T, 3) mm, camera frame
                ds.pred_trajectory = traj[i]
                ds.pred_root_camera = roots[i]
        return data_samples
