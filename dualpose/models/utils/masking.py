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


MASK_MODES = ('noise', 'noise-literal', 'token')
NOISE_SCALES = ('body', 'screen')
TOKEN_POSITIONS = ('after_pos', 'before_pos')


def body_frame(xy: torch.Tensor, conf: torch.Tensor):
    """Each sample's centre and size in the normalised screen: xy (B, T, J, 2), conf (B, T, J)
    -> centre (B, 1, 1, 2), the mean of its joints over the clip, and scale (B, 1, 1, 1), the
    root-mean-square deviation of its joints' coordinates from that centre, per coordinate (so
    that 2D noise of that std per coordinate lies as far from the centre as the joints do, on
    average). Joints of confidence 0, which carry no position, are left out."""
    w = (conf > 0).to(xy.dtype).unsqueeze(-1)  # (B, T, J, 1)
    n = w.sum((1, 2), keepdim=True).clamp(min=1)
    centre = (xy * w).sum((1, 2), keepdim=True) / n
    sq = (((xy - centre) ** 2).mean(-1, keepdim=True) * w).sum((1, 2), keepdim=True) / n
    return centre, sq.sqrt().clamp(min=1e-3)


@MODELS.register_module()
class TokenMasking(nn.Module):
    """The masking of CRL pre-training: M masked copies of each sample.

    Args:
        num_masks (int): M copies per sample (3).
        ratio (float): P, the expected fraction of masked (frame, joint) tokens (0.7).
        span (int): 1 = independent tokens; > 1 = runs of this many frames / joints.
        span_dim (str): ``'time'`` or ``'joint'``.
        mode (str):

            - ``'noise'`` (the default; the paper's Gaussian-noise masking, read as
              corrupting a token's *position*): the masked tokens' 2D coordinates are
              replaced by Gaussian noise (``noise_scale``, ``noise_std``) and their confidence
              by ``masked_confidence``;
            - ``'noise-literal'`` (the paper read literally, this project's behaviour before
              it was measured): all three input channels, the confidence included, replaced by
              N(0, noise_std^2) in normalised screen units (``noise_scale`` and
              ``masked_confidence`` do not apply);
            - ``'token'`` (the public code): the embedding of a masked token is replaced by a
              learned mask token (``token_position``), through the backbone's one masking hook
              (the ``token_mask`` / ``mask_token`` / ``mask_position`` arguments).
        noise_std (float): std of the noise, in units of ``noise_scale`` (1.0).
        noise_scale (str): ``'body'``: noise centred on the sample's body centre with std
            ``noise_std`` times its size (:func:`body_frame`; a masked joint lands somewhere
            on the body's extent); ``'screen'``: centred at 0 with std ``noise_std`` in
            normalised screen units (the image width spans 2; a standing adult filmed by a
            Human3.6M camera is about 0.2 x 0.7 of them).
        masked_confidence (float | None): the confidence given to a masked token in mode
            ``'noise'``: a constant in [0, 1] (0.0, the default: as an undetected joint), or
            None to keep the detector's.
        token_position (str): where the mask token replaces a masked token's embedding in
            mode ``'token'``: ``'after_pos'`` (after the spatial position embedding is added,
            as the public code does) or ``'before_pos'`` (the position embedding is then added
            to the mask token).
        embed_dims (int): the mask token's width (the backbone's ``embed_dims``), for
            ``mode='token'``; the distiller fills it in.
    """

    def __init__(self, num_masks: int = 3, ratio: float = 0.7, span: int = 1,
                 span_dim: str = 'time', mode: str = 'noise', noise_std: float = 1.0,
                 noise_scale: str = 'body', masked_confidence: Optional[float] = 0.0,
                 token_position: str = 'after_pos', embed_dims: Optional[int] = None):
        super().__init__()
        if mode not in MASK_MODES:
            raise ValueError(f'masking mode must be one of {MASK_MODES}, got {mode!r}')
        if num_masks < 1:
            raise ValueError(f'masking num_masks must be >= 1, got {num_masks}')
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f'masking ratio must be in [0, 1), got {ratio}')
        if span_dim not in ('time', 'joint'):
            raise ValueError(f"masking span_dim must be 'time' or 'joint', got {span_dim!r}")
        if not noise_std > 0:
            raise ValueError(f'masking noise_std must be > 0, got {noise_std}')
        if noise_scale not in NOISE_SCALES:
            raise ValueError(f'masking noise_scale must be one of {NOISE_SCALES}, got '
                             f'{noise_scale!r}')
        if masked_confidence is not None and not 0.0 <= masked_confidence <= 1.0:
            raise ValueError('masking masked_confidence must be in [0, 1] or None (keep the '
                             f"detector's), got {masked_confidence}")
        if token_position not in TOKEN_POSITIONS:
            raise ValueError(f'masking token_position must be one of {TOKEN_POSITIONS}, got '
                             f'{token_position!r}')
        self.num_masks, self.ratio, self.span, self.span_dim = num_masks, ratio, span, span_dim
        self.mode, self.noise_std, self.noise_scale = mode, noise_std, noise_scale
        self.masked_confidence, self.token_position = masked_confidence, token_position
        self.mask_token = None
        if mode == 'token':
            if not embed_dims:
                raise ValueError("masking mode 'token' needs embed_dims (the backbone width)")
            self.mask_token = nn.Parameter(torch.zeros(embed_dims))
            nn.init.trunc_normal_(self.mask_token, std=0.02)

    def corrupt(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The noise-masked copy of ``x`` (N, T, J, 3) at ``mask`` (N, T, J)."""
        m = mask.unsqueeze(-1)
        if self.mode == 'noise-literal':
            return torch.where(m, torch.randn_like(x) * self.noise_std, x)
        xy, conf = x[..., :2], x[..., 2:]  # inputs without a confidence channel have conf (.., 0)
        noise = torch.randn_like(xy) * self.noise_std
        if self.noise_scale == 'body':
            seen = conf[..., 0] if conf.shape[-1] else torch.ones_like(xy[..., 0])
            centre, scale = body_frame(xy, seen)
            noise = centre + noise * scale
        xy = torch.where(m, noise, xy)
        if self.masked_confidence is not None and conf.shape[-1]:
            conf = torch.where(m, torch.full_like(conf, self.masked_confidence), conf)
        return torch.cat([xy, conf], -1)

    def forward(self, inputs: torch.Tensor):
        """(B, T, J, 3) inputs -> ``(x (M*B, T, J, 3), mask (M*B, T, J) bool, kwargs)``, the
        keyword arguments to pass to the backbone (the mask token in ``'token'`` mode)."""
        x = inputs.repeat(self.num_masks, 1, 1, 1)
        mask = draw_token_mask(x.shape[:3], self.ratio, self.span, self.span_dim,
                               device=x.device)
        if self.mode == 'token':
            return x, mask, dict(token_mask=mask, mask_token=self.mask_token,
                                 mask_position=self.token_position)
        return self.corrupt(x, mask), mask, {}
