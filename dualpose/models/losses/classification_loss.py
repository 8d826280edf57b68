"""The loss of action classification: cross-entropy (formula in evaluation.functional)."""
from torch import Tensor, nn

from dualpose.evaluation.functional import cross_entropy
from dualpose.registry import MODELS

__all__ = ['CrossEntropyLoss']


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Mean cross-entropy of (N, C) logits against (N,) class indices, times ``loss_weight``.

    Args:
        loss_weight (float): multiplier (1).
        label_smoothing (float): in [0, 1): the target keeps ``1 - eps`` on the label and
            spreads ``eps`` over all classes (0: none).
    """

    loss_name = 'loss_cls'

    def __init__(self, loss_weight: float = 1.0, label_smoothing: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(f'CrossEntropyLoss: label_smoothing must be in [0, 1), got '
                             f'{label_smoothing!r}')
        self.loss_weight = float(loss_weight)
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        return cross_entropy(logits, labels, self.label_smoothing) * self.loss_weight

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}, label_smoothing={self.label_smoothing}'
