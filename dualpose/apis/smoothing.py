"""Temporal smoothing of lifted 3D against jitter: the one-euro filter (Casiez et al., CHI 2012).

Per coordinate, a low-pass filter whose cut-off rises with the speed: ``fc = min_cutoff +
beta * |speed|``, so a still pose is smoothed hard (jitter gone) and a fast one little (no
lag). The signal is first divided by the person's size (the median distance of the joints
from their mean, over the sequence), so ``beta`` is in 1 / (body sizes per second) and one
setting fits millimetres, pixels and normalised units alike. Causal: each frame uses the
frames before it only, so the same filter runs live. Frames that are NaN (a person absent)
are kept NaN and restart the filter.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = ['OneEuroSmoothing', 'one_euro_filter', 'body_size']


def _alpha(cutoff, dt):
    tau = 1.0 / (2 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def body_size(poses: np.ndarray) -> float:
    """The median over frames of the mean distance of a pose's joints from their centroid
    ((T, J, 3), NaN frames ignored); 1 when undefined."""
    pts = np.asarray(poses, dtype=np.float64)
    ok = np.isfinite(pts).all((-2, -1))
    if not ok.any():
        return 1.0
    p = pts[ok]
    size = float(np.median(np.linalg.norm(p - p.mean(-2, keepdims=True), axis=-1).mean(-1)))
    return size if size > 0 else 1.0


def one_euro_filter(x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.5,
                    d_cutoff: float = 1.0, scale: Optional[float] = None) -> np.ndarray:
    """One-euro filter along axis 0 of ``x`` (T, ...), every other entry a separate signal.

    Args:
        fps: frames per second (> 0).
        min_cutoff: cut-off frequency (Hz) at rest; lower = smoother.
        beta: speed coefficient (1 / (sizes per second)); higher = less lag when moving.
        d_cutoff: cut-off (Hz) of the speed estimate.
        scale: divide the signal by this first (default :func:`body_size` of a (T, J, 3)
            array, else 1).

    Returns:
        float64 array like ``x``; NaN where ``x`` is NaN.
    """
    for name, v in (('fps', fps), ('min_cutoff', min_cutoff), ('d_cutoff', d_cutoff)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f'one-euro smoothing: {name} must be > 0, got {v!r}')
    if not (np.isfinite(beta) and beta >= 0):
        raise ValueError(f'one-euro smoothing: beta must be >= 0, got {beta!r}')
    x = np.asarray(x, dtype=np.float64)
    if scale is None:
        scale = body_size(x) if x.ndim == 3 and x.shape[-1] == 3 else 1.0
    sig = x / scale
    dt = 1.0 / float(fps)
    out = np.full_like(sig, np.nan)
    prev = prev_d = None
    a_d = _alpha(d_cutoff, dt)
    for t in range(len(sig)):
        cur = sig[t]
        if not np.isfinite(cur).all():
            prev = prev_d = None   # absent: restart after the gap
            continue
        if prev is None:
            out[t], prev, prev_d = cur, cur, np.zeros_like(cur)
            continue
        d = (cur - prev) / dt
        d_hat = a_d * d + (1 - a_d) * prev_d
        a = _alpha(min_cutoff + beta * np.abs(d_hat), dt)
        prev = a * cur + (1 - a) * prev
        prev_d = d_hat
        out[t] = prev
    return out * scale


@dataclass
class OneEuroSmoothing:
    """The smoothing settings the API and the demo take (see :func:`one_euro_filter`)."""
    min_cutoff: float = 1.0
    beta: float = 0.5
    d_cutoff: float = 1.0

    def __call__(self, poses: np.ndarray, fps: float) -> np.ndarray:
        return one_euro_filter(poses, fps, self.min_cutoff, self.beta, self.d_cutoff)

    def describe(self, fps: float) -> str:
        return (f'one-euro filter at {fps:g} fps: min_cutoff {self.min_cutoff:g} Hz, beta '
                f'{self.beta:g} per body size per second, d_cutoff {self.d_cutoff:g} Hz')
