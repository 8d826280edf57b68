"""Detector-like 2D noise of the synthetic generator.

Applied to the exact projection of each camera view (:func:`detect`):

- **jitter**: AR(1) noise per joint (extremities noisier than the torso), plus outliers of 1-3
  frames (20-60 px);
- **box-scale jitter**: the whole pose scaled about its box centre by a slowly drifting factor
  (a detector's box that breathes);
- **left-right swaps**: the 2D of a left and a right limb (elbow and wrist, or knee and ankle)
  exchanged for 2-8 frames;
- **occlusions**: runs of 5-40 frames in which a joint is not detected (confidence 0); its
  coordinates are then interpolated in time, as :func:`dualpose.apis.inference.fill_missing`
  does for real detections.

Confidences fall with the 2D error (``exp(-error / 14 px)``, in [0.05, 1]). ``scale`` (per
video) multiplies every noise: 0 gives the exact projection with confidence 1.
"""
import numpy as np

from .body import NUM_JOINTS

__all__ = ['detect', 'JITTER_STD']

# per-joint jitter std in pixels for a person ~450 px tall (torso small, extremities large)
JITTER_STD = np.array([2.0, 2.5, 3.0, 4.0, 2.5, 3.0, 4.0, 2.5, 2.5, 2.5, 3.0,
                       2.5, 3.5, 4.5, 2.5, 3.5, 4.5])
_LIMBS = (((12, 13), (15, 16)), ((2, 3), (5, 6)))


def _jitter(rng, n, size, rho=0.85, outlier_rate=0.004):
    std = JITTER_STD * rng.uniform(0.7, 1.3) * size
    innov = rng.standard_normal((n, NUM_JOINTS, 2)) * std[:, None] * np.sqrt(1 - rho ** 2)
    err = np.empty_like(innov)
    err[0] = innov[0] / np.sqrt(1 - rho ** 2)
    for i in range(1, n):
        err[i] = rho * err[i - 1] + innov[i]
    starts = np.argwhere(rng.random((n, NUM_JOINTS)) < outlier_rate)
    for (ti, ji), dur, mag, ang in zip(starts, rng.integers(1, 4, len(starts)),
                                       rng.uniform(20, 60, len(starts)) * size,
                                       rng.uniform(0, 2 * np.pi, len(starts))):
        err[ti:ti + dur, ji] += mag * np.array([np.cos(ang), np.sin(ang)])
    return err


def _box_scale(rng, xy, std):
    n = len(xy)
    drift = np.cumsum(rng.standard_normal(n)) / np.sqrt(max(n, 1))
    width = max(1, min(15, n))
    drift = np.convolve(drift, np.ones(width) / width, mode='same')
    factor = 1.0 + std * drift / max(np.abs(drift).max(), 1e-9) * rng.uniform(0.3, 1.0)
    centre = 0.5 * (xy.min(1, keepdims=True) + xy.max(1, keepdims=True))
    return centre + (xy - centre) * factor[:, None, None]


def _swaps(rng, xy, rate):
    out = xy.copy()
    n = len(xy)
    for start in np.flatnonzero(rng.random(n) < rate):
        left, right = _LIMBS[int(rng.integers(2))]
        stop = min(n, start + int(rng.integers(2, 9)))
        out[start:stop, list(left) + list(right)] = xy[start:stop, list(right) + list(left)]
    return out


def _occlude(rng, xy, conf, rate):
    n = len(xy)
    frames = np.arange(n)
    missing = np.zeros((n, NUM_JOINTS), dtype=bool)
    for ti, ji in np.argwhere(rng.random((n, NUM_JOINTS)) < rate):
        missing[ti:ti + int(rng.integers(5, 41)), ji] = True
    for j in np.flatnonzero(missing.any(0)):
        seen = ~missing[:, j]
        if not seen.any():
            missing[:, j] = False
            continue
        for c in range(2):
            xy[~seen, j, c] = np.interp(frames[~seen], frames[seen], xy[seen, j, c])
    conf[missing] = 0.0
    return xy, conf


def detect(rng: np.random.Generator, uv: np.ndarray, scale: float = 1.0,
           occlusion_rate: float = 0.0015, swap_rate: float = 0.004,
           box_std: float = 0.03):
    """Detector-like 2D keypoints and confidences from exact pixels ``uv`` (T, 17, 2).

    Returns:
        (joint_2d (T, 17, 2) pixels, confidence (T, 17) in {0} U [0.05, 1]).
    """
    n = len(uv)
    if scale <= 0:
        return uv.copy(), np.ones(uv.shape[:2])
    height = np.median(uv[..., 1].max(1) - uv[..., 1].min(1))
    size = float(np.clip(height / 450.0, 0.2, 3.0))
    err = scale * _jitter(rng, n, size)
    xy = _box_scale(rng, uv, scale * box_std) + err
    xy = _swaps(rng, xy, scale * swap_rate)
    mag = np.linalg.norm(xy - uv, axis=-1) / size
    conf = np.clip(np.exp(-mag / 14.0) + 0.04 * rng.standard_normal(mag.shape), 0.05, 1.0)
    return _occlude(rng, xy, conf, scale * occlusion_rate)
