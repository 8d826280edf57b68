"""The target generator of CRL pre-training: the mean of the teacher's top-K block outputs."""
import torch
import torch.nn.functional as F
from torch import nn

from dualpose.registry import MODELS

__all__ = ['normalize_layer', 'TopKTargets']
NORMS = ('instance', 'layer', 'position', 'none')


def normalize_layer(feats: torch.Tensor, mode: str) -> torch.Tensor:
    """Parameter-free normalisation of one block output (B, T, J, C) before averaging.

    ``'instance'``: per sample, joint and channel over the T frames; ``'layer'``: per token
    over the C channels; ``'position'``: per token position (frame, joint) and channel over
    the B samples of the batch, so that what every sample shares at a position (the joint's
    position embedding carried through the blocks: 94.9% of the variance of the layer-norm
    targets of the shipped pre-training, ``tools/analysis/crl_targets.py``) is no longer a
    target; ``'none'``: unchanged.
    """
    if mode == 'instance':
        b, t, j, c = feats.shape
        x = feats.permute(0, 2, 3, 1).reshape(b * j, c, t)
        x = F.instance_norm(x.float(), eps=1e-5) if t > 1 else x - x.mean(-1, keepdim=True)
        return x.reshape(b, j, c, t).permute(0, 3, 1, 2)
    if mode == 'layer':
        return F.layer_norm(feats.float(), feats.shape[-1:], eps=1e-5)
    if mode == 'position':
        x = feats.float()
        if x.shape[0] < 2:
            raise ValueError("target norm 'position' normalises over the batch: it needs at "
                             f'least 2 samples, got a batch of {x.shape[0]}')
        var, mean = torch.var_mean(x, dim=0, unbiased=False, keepdim=True)
        return (x - mean) * torch.rsqrt(var + 1e-5)
    if mode == 'none':
        return feats
    raise ValueError(f"target norm must be one of {NORMS}, got {mode!r}")


@MODELS.register_module()
class TopKTargets(nn.Module):
    """Targets (B, T, J, C): the mean of the teacher's last ``top_k`` block outputs, each
    normalised first (``norm``), computed on the unmasked input without gradients.

    Args:
        top_k (int): K (8); clamped to the teacher's depth.
        norm (str): ``'instance'`` (data2vec), ``'layer'``, ``'position'`` or ``'none'``
            (:func:`normalize_layer`).
    """

    def __init__(self, top_k: int = 8, norm: str = 'instance'):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f'target norm must be one of {NORMS}, got {norm!r}')
        if top_k < 1:
            raise ValueError(f'top_k must be >= 1, got {top_k}')
        self.top_k, self.norm = top_k, norm

    @torch.no_grad()
    def forward(self, teacher: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        teacher.train(False)
        _, layers = teacher(inputs, return_layers=True)
        top = layers[-self.top_k:]
        target = normalize_layer(top[0], self.norm)
        for layer in top[1:]:
            target = target + normalize_layer(layer, self.norm)
        return target / len(top)
