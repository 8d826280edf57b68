"""Random token masks for masked pre-training, drawn on the device in one vectorised call."""
from typing import Optional

import torch
import torch.nn.functional as F


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
