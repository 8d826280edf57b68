"""Masking for CRL pre-training: random token masks drawn on the device in one vectorised call
(:func:`draw_token_mask`), and the registered masking module (:class:`TokenMasking`)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from dualpose.registry import MODELS


def draw_token_mask(shape, ratio: float, span: int = 1, span_dim: str = 'time',
                    device=None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Bernoulli mask over (N, T, J) tokens, True = masked.

    Args:
        shape: (N, T, J).
        ratio: expected fraction of masked tokens.
        span: with ``span > 1``, masks come in runs of ``span`` consecutive frames
            (``span_dim='time'``) or joints (``'joint'``): run starts are drawn with
            probability ``p`` chosen so that the expected masked fraction is ``ratio``
            (``1 - (1 - p)^span = ratio``), then each start is dilated forward by a max-pool.

    Returns:
        Tensor: (N, T, J) bool.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f'mask ratio must be in [0, 1), got {ratio}')
    n, t, j = shape
    if span <= 1:
        return torch.rand(n, t, j, device=device, generator=generator) < ratio
    p_start = 1.0 - (1.0 - ratio) ** (1.0 / span)
    length = t if span_dim == 'time' else j
    if span_dim not in ('time', 'joint'):
        raise ValueError(f"span_dim must be 'time' or 'joint', got {span_dim!r}")
    # run starts over span - 1 extra leading positions, so that the first tokens are as
    # likely to be covered as the others; position i is masked if a run started in
    # [i - span + 1, i]: a max-pool of width span over the starts
    other = j if span_dim == 'time' else t
    starts = torch.rand(n * other, 1, length + span - 1, device=device,
                        generator=generator) < p_start
    runs = F.max_pool1d(starts.float(), kernel_size=span, stride=1) > 0  # (n*other, 1, length)
    if span_dim == 'time':
        return runs.reshape(n, j, t).permute(0, 2, 1)
    return runs.reshape(n, t, j)


@MODELS.register_module()
class TokenMasking(nn.Module):
    """The masking of CRL pre-training: M masked copies of each sample.

    Args:
        num_masks (int): M copies per sample (3).
        ratio (float): P, the expected fraction of masked (frame, joint) tokens (0.7).
        span (int): 1 = independent tokens; > 1 = runs of this many frames / joints.
        span_dim (str): ``'time'`` or ``'joint'``.
        mode (str): ``'noise'`` (the paper): masked tokens' 2D features are replaced by
            Gaussian noise of std ``noise_std`` (normalised screen units); ``'token'`` (the
            public code): their embedding is replaced by a learned mask token, through the
            backbone's one masking hook (``token_mask`` / ``mask_token`` arguments).
        embed_dims (int): the mask token's width (the backbone's ``embed_dims``), for
            ``mode='token'``; the distiller fills it in.
    """

    def __init__(self, num_masks: int = 3, ratio: float = 0.7, span: int = 1,
                 span_dim: str = 'time', mode: str = 'noise', noise_std: float = 1.0,
                 embed_dims: Optional[int] = None):
        super().__init__()
        if mode not in ('noise', 'token'):
            raise ValueError(f"masking mode must be 'noise' or 'token', got {mode!r}")
        if num_masks < 1:
            raise ValueError(f'masking num_masks must be >= 1, got {num_masks}')
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f'masking ratio must be in [0, 1), got {ratio}')
        if span_dim not in ('time', 'joint'):
            raise ValueError(f"masking span_dim must be 'time' or 'joint', got {span_dim!r}")
        self.num_masks, self.ratio, self.span, self.span_dim = num_masks, ratio, span, span_dim
        self.mode, self.noise_std = mode, noise_std
        self.mask_token = None
        if mode == 'token':
            if not embed_dims:
                raise ValueError("masking mode 'token' needs embed_dims (the backbone width)")
            self.mask_token = nn.Parameter(torch.zeros(embed_dims))
            nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, inputs: torch.Tensor):
        """(B, T, J, 3) inputs -> ``(x (M*B, T, J, 3), mask (M*B, T, J) bool, kwargs)``, the
        keyword arguments to pass to the backbone (the mask token in ``'token'`` mode)."""
        x = inputs.repeat(self.num_masks, 1, 1, 1)
        mask = draw_token_mask(x.shape[:3], self.ratio, self.span, self.span_dim,
                               device=x.device)
        if self.mode == 'noise':
            x = torch.where(mask.unsqueeze(-1), torch.randn_like(x) * self.noise_std, x)
            return x, mask, {}
        return x, mask, dict(token_mask=mask, mask_token=self.mask_token)
