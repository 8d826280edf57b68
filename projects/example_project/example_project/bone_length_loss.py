import torch
import torch.nn as nn

from dualpose.registry import MODELS


@MODELS.register_module()
class BoneLengthLoss(nn.Module):
    """Mean absolute difference between predicted and target bone lengths.

    Args:
        skeleton_links (list[tuple[int, int]]): bones, from the dataset metainfo.
        loss_weight (float): weight of the loss.
    """

    def __init__(self, skeleton_links, loss_weight: float = 1.0):
        super().__init__()
        links = torch.as_tensor(skeleton_links, dtype=torch.long)
        self.register_buffer('parent_index', links[:, 0], persistent=False)
        self.register_buffer('child_index', links[:, 1], persistent=False)
        self.loss_weight = loss_weight

    @property
    def loss_name(self) -> str:
        return 'loss_bone_length'

    def bone_lengths(self, pose: torch.Tensor) -> torch.Tensor:
        """(..., J, 3) -> (..., number of bones)."""
        return (pose[..., self.child_index, :] - pose[..., self.parent_index, :]).norm(dim=-1)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        diff = self.bone_lengths(pred) - self.bone_lengths(target)
        return diff.abs().mean() * self.loss_weight
