"""Trajectory head: the root's position in the camera frame, VideoPose3D-style.

A lifter's pose is root-relative; where the person is comes from here. Per frame the head reads
the backbone's features of every joint with the joint's 2D offset from the root and its
confidence (the body's apparent size is the depth cue), pools over the joints (mean and max:
any joint count) and regresses ``(du, dv, d)``: the root's image position as an offset from
the input's root, and ``d = log(metres per normalised screen unit at the root)``, the 2.5D
factor, which needs no intrinsics. :func:`~dualpose.codecs.root_from_trajectory` turns that
into millimetres in the camera frame with the camera's intrinsics, in the loss as at
inference. The loss compares camera-space root positions weighted by the inverse of the true
depth (:class:`~dualpose.models.losses.TrajectoryLoss`).
"""
from typing import Dict, List

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from dualpose.codecs import default_camera, root_from_trajectory
from dualpose.registry import MODELS

__all__ = ['TrajectoryHead', 'sample_cameras']


def sample_cameras(data_samples: List, like: torch.Tensor):
    """(B, 1, 2) image sizes and (B, 1, 4) intrinsics of a batch's samples (metainfo
    ``image_size``, ``camera_intrinsics``; the documented default camera where a sample has
    none), as tensors like ``like``."""
    sizes, cams = [], []
    for ds in data_samples:
        size = [float(v) for v in ds.metainfo['image_size']]
        k = ds.metainfo.get('camera_intrinsics')
        if k is None:
            k = default_camera(size).as_array()
        sizes.append(torch.as_tensor(size, dtype=like.dtype))
        cams.append(torch.as_tensor(k, dtype=like.dtype).reshape(4))
    return (torch.stack(sizes)[:, None].to(like.device),
            torch.stack(cams)[:, None].to(like.device))


@MODELS.register_module()
class TrajectoryHead(BaseModule):
    """Regresses the root's camera-space trajectory from backbone features.

    Args:
        in_channels (int): backbone channels C (:class:`PoseLifter` fills it in).
        hidden_dims (int): width of the per-joint and per-frame MLPs (128).
        init_log_scale (float): the initial ``d`` (log metres per normalised screen unit);
            0.8 is a person about 5 m from a camera whose focal length is 1.15 image widths.
        loss (dict): the loss (``TrajectoryLoss``).
    """

    def __init__(self, in_channels: int = None, hidden_dims: int = 128,
                 init_log_scale: float = 0.8, loss: Dict = dict(type='TrajectoryLoss'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if in_channels is None:
            raise ValueError('TrajectoryHead needs in_channels (the backbone width C); inside '
                             'a PoseLifter it is taken from the backbone')
        self.joint_mlp = nn.Sequential(nn.Linear(in_channels + 3, hidden_dims), nn.GELU(),
                                       nn.Linear(hidden_dims, hidden_dims), nn.GELU())
        self.frame_mlp = nn.Sequential(nn.Linear(2 * hidden_dims, hidden_dims), nn.GELU())
        self.fc = nn.Linear(hidden_dims, 3)
        with torch.no_grad():
            self.fc.weight.mul_(0.1)
            self.fc.bias.copy_(torch.tensor([0.0, 0.0, float(init_log_scale)]))
        self.loss_module = MODELS.build(loss)

    def forward(self, feats: torch.Tensor, inputs: torch.Tensor,
                root_index: int = 0) -> torch.Tensor:
        """feats (B, T, J, C), inputs (B, T, J, 3) normalised x, y, confidence ->
        (B, T, 3) ``(du, dv, d)``."""
        offsets = inputs[..., :2] - inputs[..., root_index:root_index + 1, :2]
        tokens = self.joint_mlp(torch.cat([feats, offsets, inputs[..., 2:3]], -1))
        pooled = torch.cat([tokens.mean(-2), tokens.amax(-2)], -1)
        return self.fc(self.frame_mlp(pooled))

    def decode(self, traj: torch.Tensor, inputs: torch.Tensor, data_samples: List,
               root_index: int = 0) -> torch.Tensor:
        """(B, T, 3) head output -> (B, T, 3) root positions, mm, camera frame."""
        size, cams = sample_cameras(data_samples, traj)
        return root_from_trajectory(traj, inputs[..., root_index, :2], size, cams)

    def loss(self, feats: torch.Tensor, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        root = data_samples[0].metainfo.get('root_index', 0)
        missing = [i for i, ds in enumerate(data_samples)
                   if 'gt_camera' not in ds or 'camera_intrinsics' not in ds.metainfo]
        if missing:
            raise ValueError('TrajectoryHead: the samples carry no camera-space ground truth '
                             '(gt_camera) or intrinsics (camera_intrinsics); train it on data '
                             'with joint3d_camera and camera_intrinsics, e.g. '
                             'Human36mDataset(with_camera=True) on a regenerated synthetic file')
        pred = self.decode(self.forward(feats, inputs, root), inputs, data_samples, root)
        target = torch.stack([ds.gt_camera[..., root, :] for ds in data_samples]).to(pred)
        return {self.loss_module.loss_name: self.loss_module(pred, target)}
