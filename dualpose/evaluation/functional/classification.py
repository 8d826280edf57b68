"""Classification scores (torch), shared by the action metric and the loss: top-k hits, the
confusion matrix and the cross-entropy."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['topk_hits', 'confusion_matrix', 'cross_entropy']


def _check_scores(scores: Tensor, labels: Tensor, name: str) -> None:
    if scores.dim() != 2:
        raise ValueError(f'{name}: scores must have shape (N, num_classes), got '
                         f'{tuple(scores.shape)}')
    if labels.shape != scores.shape[:1]:
        raise ValueError(f'{name}: labels must have shape ({scores.shape[0]},), got '
                         f'{tuple(labels.shape)}')
    if labels.numel() and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(f'{name}: labels must lie in [0, {scores.shape[1] - 1}] (one per '
                         f'class of the scores), got {labels.min().item()}..'
                         f'{labels.max().item()}')


def topk_hits(scores: Tensor, labels: Tensor, k: int) -> Tensor:
    """(N,) bool: whether each sample's label is among its ``k`` highest scores (logits or
    probabilities, (N, C)); ``k`` is clipped to C (with k >= C every sample is a hit). Ties
    are broken by ``torch.topk``'s order."""
    _check_scores(scores, labels, 'topk_hits')
    if k < 1:
        raise ValueError(f'topk_hits: k must be >= 1, got {k}')
    top = scores.topk(min(int(k), scores.shape[1]), dim=1).indices
    return (top == labels[:, None]).any(1)


def confusion_matrix(pred: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """(C, C) int64 counts: row = true class, column = predicted class."""
    pred, labels = pred.reshape(-1).long(), labels.reshape(-1).long()
    if pred.shape != labels.shape:
        raise ValueError(f'confusion_matrix: {pred.numel()} predictions for {labels.numel()} '
                         'labels')
    return torch.bincount(labels * num_classes + pred,
                          minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def cross_entropy(logits: Tensor, labels: Tensor, label_smoothing: float = 0.0,
                  weight: Optional[Tensor] = None) -> Tensor:
    """Mean cross-entropy of (N, C) logits against (N,) class indices, with optional label
    smoothing (the target puts ``1 - eps + eps / C`` on the label, ``eps / C`` elsewhere)."""
    _check_scores(logits, labels, 'cross_entropy')
    return F.cross_entropy(logits, labels.long(), weight=weight,
                           label_smoothing=float(label_smoothing))
