"""Training losses of 3D pose lifting; each is a mean of an evaluation error.

All take ``pred`` and ``target`` of shape (B, T, J, 3) (any leading dims work) and return a
scalar multiplied by ``loss_weight``. The formulas live in
:mod:`dualpose.evaluation.functional`, shared with the metric.
"""
from abc import ABCMeta, abstractmethod

from torch import Tensor, nn

from dualpose.evaluation.functional import mpjpe, mpjve, n_mpjpe, weighted_mpjpe
from dualpose.registry import MODELS

__all__ = ['MPJPELoss', 'NMPJPELoss', 'VelocityLoss', 'TrajectoryLoss']


class _LiftingLoss(nn.Module, metaclass=ABCMeta):
    """Base: holds ``loss_weight``; subclasses define ``_error`` and ``_name``."""

    _name = 'loss'

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    @property
    def loss_name(self) -> str:
        """Key of this loss in the estimator's loss dict."""
        return self._name

    @abstractmethod
    def _error(self, pred: Tensor, target: Tensor) -> Tensor:
        """Per-frame (or per-step) error of ``pred`` against ``target``."""

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """
        Args:
            pred (Tensor): (B, T, J, 3) prediction.
            target (Tensor): (B, T, J, 3) target, same units.

        Returns:
            Tensor: scalar, the mean error times ``loss_weight``.
        """
        err = self._error(pred, target)
        if err.numel() == 0:  # nothing to compare (e.g. velocity of T=1): zero, keeps the graph
            return pred.sum() * 0.0
        return err.mean() * self.loss_weight

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'


@MODELS.register_module()
class MPJPELoss(_LiftingLoss):
    """Mean per-joint position error (mean L2 distance over joints, frames, batch)."""

    _name = 'loss_mpjpe'

    def _error(self, pred: Tensor, target: Tensor) -> Tensor:
        return mpjpe(pred, target)


@MODELS.register_module()
class NMPJPELoss(_LiftingLoss):
    """MPJPE after the per-frame least-squares scale of the prediction (scale-invariant)."""

    _name = 'loss_n_mpjpe'

    def _error(self, pred: Tensor, target: Tensor) -> Tensor:
        return n_mpjpe(pred, target)


@MODELS.register_module()
class VelocityLoss(_LiftingLoss):
    """Mean per-joint velocity error along time (dim -3); 0 for a single frame."""

    _name = 'loss_velocity'

    def _error(self, pred: Tensor, target: Tensor) -> Tensor:
        if pred.dim() < 3:
            raise ValueError(f'VelocityLoss: expected (..., T, J, 3) tensors, got shape '
                             f'{tuple(pred.shape)}')
        return mpjve(pred, target, dim=-3)


@MODELS.register_module()
class TrajectoryLoss(_LiftingLoss):
    """The root's camera-space position error weighted by the inverse of its true depth
    (VideoPose3D's trajectory loss): ``mean ||p - t|| / t_z``, a fraction of the distance to
    the camera, so that far people, whose error in mm grows with depth, do not dominate.

    ``pred`` and ``target``: (..., 3) root positions, mm, camera frame.
    """

    _name = 'loss_traj'

    def _error(self, pred: Tensor, target: Tensor) -> Tensor:
        if pred.shape[-1] != 3:
            raise ValueError(f'TrajectoryLoss: expected (..., 3) camera-space positions, got '
                             f'shape {tuple(pred.shape)}')
        pred, target = pred[..., None, :], target[..., None, :]   # one joint: the root
        return weighted_mpjpe(pred, target, 1.0 / target[..., 2].clamp_min(1.0))
