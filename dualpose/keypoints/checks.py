"""The one check of 2D keypoint input, shared by the file readers and the inference API."""
from typing import Any, Optional, Sequence, Tuple

import numpy as np

__all__ = ['check_keypoints', 'check_image_size', 'MIN_IMAGE_PX', 'MAX_IMAGE_PX',
           'COORD_LIMIT', 'MIN_BODY_PX']

# The value checks (docs/inference.md, "Input checks"): image sides in pixels, how far from
# the image a detected joint may lie (in image sizes from the origin), the smallest extent
# of a detected body in pixels.
MIN_IMAGE_PX, MAX_IMAGE_PX = 16, 32768
COORD_LIMIT = 4.0
MIN_BODY_PX = 4.0


def _at(t: int, j: int, frame_ids: Optional[Sequence[Any]]) -> str:
    frame = f'frame {t}' if frame_ids is None else f'frame {t} ({frame_ids[t]!r})'
    return f'{frame}, joint {j}'


def check_image_size(image_size, where: str = 'keypoints') -> Tuple[float, float]:
    """``(width, height)`` in pixels as two positive finite floats, else a ValueError."""
    try:
        w, h = (float(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f'{where}: image_size must be (width, height) in pixels, got '
                         f'{image_size!r}') from None
    if not (w > 0 and h > 0 and np.isfinite(w) and np.isfinite(h)):
        raise ValueError(f'{where}: image_size must be positive (width, height), got '
                         f'{image_size!r}')
    if not (MIN_IMAGE_PX <= w <= MAX_IMAGE_PX and MIN_IMAGE_PX <= h <= MAX_IMAGE_PX):
        raise ValueError(f'{where}: image_size must be (width, height) in pixels, each side '
                         f'{MIN_IMAGE_PX}..{MAX_IMAGE_PX}, got {image_size!r}')
    return w, h


def check_keypoints(keypoints, scores=None, image_size=None, where: str = 'keypoints',
                    frame_ids: Optional[Sequence[Any]] = None):
    """Check one person's 2D keypoints and make them safe to use.

    Args:
        keypoints: (T, J, 2) or (T, J, 3) pixels; a third channel is the confidence.
        scores: (T, J) confidences; overrides a third channel; default 1.
        image_size: (w, h) pixels, or None when unknown (readers of files without it).
        where: what the input is (a file's path, ``'keypoints'``), the start of every message.
        frame_ids: the frames' ids as in the file, named in messages when given.

    Returns:
        ``(xy (T, J, 2) float64, scores (T, J) float64, (w, h) or None)``: confidences
        outside [0, 1] are clipped to it, with a warning that counts them; undetected joints (confidence 0) may have had any coordinates,
        NaN included, and get 0.
    Raises:
        ValueError, naming ``where``, the frame and the joint: a wrong shape, no frames, a
        non-finite confidence, a non-finite coordinate on a detected joint, an image side
        outside 16..32768 px, a detected joint further than ``COORD_LIMIT`` (4) image sizes
        from the origin, every coordinate in [0, 1] (normalised, not pixels), a frame whose
        detected joints span less than ``MIN_BODY_PX`` (4) px (e.g. all at one point).
    """
    kpts = np.asarray(keypoints, dtype=np.float64)
    if kpts.ndim != 3 or kpts.shape[-1] not in (2, 3):
        raise ValueError(f'{where}: keypoints must have shape (T, J, 2) or (T, J, 3) (x, y[, '
                         f'confidence]) in pixels for one person, got {kpts.shape}')
    if len(kpts) == 0:
        raise ValueError(f'{where}: keypoints hold 0 frames')
    if scores is None:
        scores = kpts[..., 2] if kpts.shape[-1] == 3 else np.ones(kpts.shape[:2])
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != kpts.shape[:2]:
        raise ValueError(f'{where}: scores must have shape {kpts.shape[:2]} (T, J), got '
                         f'{scores.shape}')
    if not np.isfinite(scores).all():
        t, j = np.argwhere(~np.isfinite(scores))[0]
        raise ValueError(f'{where}: confidence is NaN or infinite at {_at(t, j, frame_ids)}')
    outside = (scores < 0) | (scores > 1)
    if outside.any():
        import warnings
        warnings.warn(f'{where}: {int(outside.sum())} confidences outside [0, 1] (min '
                      f'{scores.min():g}, max {scores.max():g}) clipped to [0, 1]')
        scores = np.clip(scores, 0.0, 1.0)
    xy = kpts[..., :2]
    bad = ~np.isfinite(xy).all(-1) & (scores > 0)
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise ValueError(f'{where}: {int(bad.sum())} keypoints with NaN or infinite '
                         f'coordinates and confidence > 0, the first at '
                         f'{_at(t, j, frame_ids)}; mark undetected joints with confidence 0')
    xy = np.where(np.isfinite(xy), xy, 0.0)
    size = None if image_size is None else check_image_size(image_size, where)
    _check_values(xy, scores > 0, size, where, frame_ids)
    return xy, scores, size


def _check_values(xy, detected, size, where, frame_ids) -> None:
    """Detected joints: pixel coordinates, near the image, of a body of some size."""
    if not detected.any():
        return
    pts = np.abs(xy[detected])
    if pts.max() <= 1.0:
        raise ValueError(f'{where}: every detected coordinate lies in [0, 1]: normalised '
                         'coordinates given as pixels? Multiply x by the image width and y by '
                         'its height')
    if size is not None:
        limit = COORD_LIMIT * np.asarray(size)
        far = (np.abs(xy) > limit).any(-1) & detected
        if far.any():
            t, j = np.argwhere(far)[0]
            raise ValueError(f'{where}: {int(far.sum())} keypoints further than '
                             f'{COORD_LIMIT:g} image sizes from the origin (image '
                             f'{size[0]:g} x {size[1]:g}), the first {tuple(xy[t, j])} at '
                             f'{_at(t, j, frame_ids)}; are they pixels of this image?')
    lo = np.where(detected[..., None], xy, np.inf).min(1)
    hi = np.where(detected[..., None], xy, -np.inf).max(1)
    extent = (hi - lo).max(-1)
    small = (detected.sum(1) >= 2) & (extent < MIN_BODY_PX)
    if small.any():
        t = int(np.flatnonzero(small)[0])
        what = 'all detected joints at one point' if extent[t] == 0 else (
            f'the detected joints span {extent[t]:.2g} px')
        raise ValueError(f'{where}: {int(small.sum())} frames with a degenerate body '
                         f'({what}; at least {MIN_BODY_PX:g} px needed), the first: '
                         f'{_at(t, 0, frame_ids).rsplit(",", 1)[0]}')
