"""2D-only pose sequences (no 3D labels), e.g. extra unlabeled data for pre-training."""
from typing import Dict

import numpy as np

from dualpose.registry import DATASETS
from .base import (BaseClipDataset, check_confidences, check_coordinates, check_finite,
                   load_npz)


@DATASETS.register_module()
class Pose2dSequenceDataset(BaseClipDataset):
    """Clips of 2D keypoint sequences read from an ``.npz`` file.

    Keys (N frames, videos contiguous and in time order):
        ``keypoints`` (N, J, 2) pixels; ``scores`` (N, J) confidences (optional, default 1);
        ``video_id`` (N,) str, one id per video; ``image_size`` (2,) or (N, 2): (w, h) pixels.

    The joints must follow the metainfo's skeleton (J from ``joint_names``).
    """

    def load_arrays(self) -> Dict[str, np.ndarray]:
        path = self.ann_file
        raw = load_npz(path, hint='See docs/datasets.md, "2D-only sequences".')
        missing = [k for k in ('keypoints', 'video_id', 'image_size') if k not in raw]
        if missing:
            raise KeyError(f"{path!r}: lacks keys {missing}; expected 'keypoints' (N, J, 2), "
                           "'video_id' (N,), 'image_size' (2,) or (N, 2), optional 'scores'")
        source = raw['video_id'].astype(str)
        n, j = len(source), self.metainfo['num_joints']
        kp = raw['keypoints']
        if kp.shape != (n, j, 2):
            raise ValueError(f"{path!r}: key 'keypoints' has shape {kp.shape}, expected "
                             f'{(n, j, 2)} (N from video_id, J from the metainfo)')
        scores = raw.get('scores', np.ones((n, j), np.float32))
        if scores.shape != (n, j):
            raise ValueError(f"{path!r}: key 'scores' has shape {scores.shape}, expected {(n, j)}")
        size = np.asarray(raw['image_size'], dtype=np.float64)
        size = np.broadcast_to(size, (n, 2)) if size.shape == (2,) else size
        if size.shape != (n, 2) or (size <= 0).any():
            raise ValueError(f"{path!r}: key 'image_size' must be (2,) or {(n, 2)} positive "
                             f'(w, h), got shape {np.shape(raw["image_size"])}')
        kp = check_finite(path, 'keypoints', kp, source)
        check_coordinates(path, 'keypoints', kp, size, source)
        scores = check_confidences(path, 'scores', check_finite(path, 'scores', scores, source),
                                   source)
        return dict(source=source, keypoints=kp, scores=scores, image_size=size)

    def frame_info(self, frames: np.ndarray) -> dict:
        a = self.arrays
        w, h = a['image_size'][frames[0]]
        return dict(video_id=str(a['source'][frames[0]]), action='', image_size=(w, h),
                    keypoints_2d=a['keypoints'][frames], keypoint_scores=a['scores'][frames])
