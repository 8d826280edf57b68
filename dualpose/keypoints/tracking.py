"""A simple tracker for files without track ids: detections associated frame to frame.

Each frame's detections are matched to the tracks seen in the last ``max_gap + 1`` frames,
greedily, best similarity first: the object keypoint similarity (OKS, COCO's) of a detection
to the track's last detection, or the IoU of their keypoint boxes. A pair below
``threshold`` is not matched; a detection left over starts a new track. A track unmatched
for up to ``max_gap`` frames keeps its id when it is matched again (a short gap is bridged:
the frames between are absent for it); after that it is closed.
"""
from typing import List, Sequence, Tuple

import numpy as np

__all__ = ['TRACKING_METHODS', 'COCO17_SIGMAS', 'oks', 'box_iou', 'track_detections']

TRACKING_METHODS = ('oks', 'iou')
# COCO's per-keypoint standard deviations (cocoeval), in the COCO-17 order
COCO17_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07,
                          .87, .87, .89, .89]) / 10.0
# other joint sets: one value for every joint (COCO's median)
DEFAULT_SIGMA = 0.072


def _box(xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
    seen = xy[conf > 0]
    return np.concatenate([seen.min(0), seen.max(0)])


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two (x0, y0, x1, y1) boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def oks(ref_xy, ref_conf, xy, conf, sigmas) -> float:
    """COCO's object keypoint similarity of a detection to a reference one, over the joints
    both detected: ``mean exp(-d^2 / (2 s^2 k^2))``, ``s^2`` the reference's box area,
    ``k = 2 sigma``."""
    both = (ref_conf > 0) & (conf > 0)
    if not both.any():
        return 0.0
    box = _box(ref_xy, ref_conf)
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1.0)
    d2 = ((ref_xy - xy) ** 2).sum(-1)
    k2 = (2 * sigmas) ** 2
    return float(np.exp(-d2[both] / (2 * area * k2[both])).mean())


def track_detections(frames: Sequence[Sequence[Tuple[np.ndarray, np.ndarray]]],
                     method: str = 'oks', threshold: float = 0.3, max_gap: int = 10,
                     sigmas=None) -> List[List[int]]:
    """Track ids for the detections of each frame.

    Args:
        frames: per frame, the detections ``(xy (J, 2), conf (J,))``, each with at least one
            detected joint.
        method: ``'oks'`` or ``'iou'`` (of the detected joints' boxes).
        threshold: the least similarity of a match (0.3).
        max_gap: frames a track may go unseen and still be continued (10).
        sigmas: (J,) OKS sigmas; default COCO's for 17 joints, else 0.072 each.

    Returns:
        per frame, the track id of each detection: 0, 1, ... in order of first appearance.
    """
    if method not in TRACKING_METHODS:
        raise ValueError(f'tracking method must be one of {TRACKING_METHODS}, got {method!r}')
    if not 0 <= float(threshold) <= 1:
        raise ValueError(f'tracking threshold must be in [0, 1], got {threshold!r}')
    if isinstance(max_gap, bool) or int(max_gap) != max_gap or max_gap < 0:
        raise ValueError(f'max_gap must be an integer >= 0 (frames), got {max_gap!r}')
    tracks = []   # [last frame, xy, conf]
    out = []
    for t, dets in enumerate(frames):
        ids = [-1] * len(dets)
        live = [i for i, tr in enumerate(tracks) if t - tr[0] <= max_gap + 1]
        pairs = []
        for i in live:
            _, rxy, rconf = tracks[i]
            for d, (xy, conf) in enumerate(dets):
                if method == 'oks':
                    sig = sigmas if sigmas is not None else (
                        COCO17_SIGMAS if len(xy) == 17 else np.full(len(xy), DEFAULT_SIGMA))
                    sim = oks(rxy, rconf, xy, conf, np.asarray(sig, dtype=np.float64))
                else:
                    sim = box_iou(_box(rxy, rconf), _box(xy, conf))
                if sim >= threshold:
                    pairs.append((sim, i, d))
        used_tracks = set()
        for sim, i, d in sorted(pairs, key=lambda p: -p[0]):
            if i in used_tracks or ids[d] >= 0:
                continue
            ids[d] = i
            used_tracks.add(i)
        for d, (xy, conf) in enumerate(dets):
            if ids[d] < 0:
                ids[d] = len(tracks)
                tracks.append(None)
            tracks[ids[d]] = [t, np.asarray(xy, dtype=np.float64),
                              np.asarray(conf, dtype=np.float64)]
        out.append(ids)
    return out
