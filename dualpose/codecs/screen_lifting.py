"""The coordinate convention of the lifting models, owned in one place.

Units, in the order a clip meets them:

- **pixels**: 2D keypoints as detected, and the pixel-scaled 3D targets of the datasets
  (x, y in pixels, depth in the same pixel scale);
- **normalised screen units**: pixels divided by half the image width, shifted so that the
  image centre is at x = 0: ``x / w * 2 - 1``, ``y / w * 2 - h / w``, ``z / w * 2``. The
  image is 2 units wide; the aspect ratio is kept. Model inputs and outputs are in these
  units, the 3D ones **root-relative** (the root joint at the origin);
- **millimetres**: root-relative normalised units times ``w / 2`` (back to pixels) times the
  2.5D factor (millimetres per pixel at the person's depth), the units the metrics score.

A left-right **flip** negates x in normalised screen units (the mirror axis is the image
centre) and swaps left and right joints.

The functions work on numpy arrays and torch tensors of shape ``(..., J, C)``;
:class:`ScreenLiftingCodec` bundles them as ``encode`` (dataset -> model) and ``decode``
(model -> metric), in the style of MMPose's codecs.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from dualpose.registry import KEYPOINT_CODECS

__all__ = ['ScreenLiftingCodec', 'root_relative', 'pixels_to_screen', 'screen_to_pixels',
           'normalized_to_mm', 'flip_pose']


def root_relative(pose, root_index: int = 0):
    """(..., J, C) poses with the root joint ``root_index`` moved to the origin (numpy or
    torch; dtype kept)."""
    return pose - pose[..., root_index:root_index + 1, :]


def pixels_to_screen(coords: np.ndarray, w: float, h: float) -> np.ndarray:
    """Pixels -> normalised screen units: ``x / w * 2 - 1``, ``y / w * 2 - h / w`` and, for a
    third (depth) channel, ``z / w * 2``. Aspect ratio kept; x spans [-1, 1]. Float32."""
    offset = np.array([1.0, h / w, 0.0][:coords.shape[-1]], dtype=np.float32)
    return (coords / w * 2 - offset).astype(np.float32)


def screen_to_pixels(coords, w: float):
    """Root-relative normalised screen units -> pixels (the same pixel scale for depth):
    ``coords * w / 2``. Offsets are not added back: root-relative poses have none."""
    return coords * (w / 2.0)


def normalized_to_mm(pred: np.ndarray, width: float, factor, root: int = 0) -> np.ndarray:
    """Root-relative millimetres (float64) from a prediction (T, J, 3) in normalised screen
    units: to pixels (x w / 2), to millimetres (x ``factor``, mm per pixel: a scalar or
    (T,)), root at 0."""
    pred = np.asarray(pred, dtype=np.float64)
    factor = np.broadcast_to(np.asarray(factor, dtype=np.float64).reshape(-1),
                             (pred.shape[0], ))
    return root_relative(screen_to_pixels(pred, float(width)) * factor[:, None, None], root)


def flip_pose(pose, flip_indices: Sequence[int]):
    """Mirror poses left-right in normalised screen units (x -> -x) and swap left/right joints.

    Works on numpy arrays and torch tensors of shape (..., J, C) with C >= 2; only channel 0
    (x) is negated, other channels (y, depth, confidence) are kept.
    """
    flipped = pose[..., list(flip_indices), :]
    if isinstance(flipped, torch.Tensor):
        sign = torch.ones(pose.shape[-1], dtype=pose.dtype, device=pose.device)
    else:
        sign = np.ones(pose.shape[-1], dtype=pose.dtype)
    sign[0] = -1
    return flipped * sign


@KEYPOINT_CODECS.register_module()
class ScreenLiftingCodec:
    """Encode a clip for the lifting model and decode its predictions.

    ``encode`` turns pixels into the model's input ``(x, y, confidence)`` and its target, both
    in normalised screen units, the target root-relative when ``root_relative``; a
    millimetre target is made root-relative. ``decode`` makes a prediction root-relative
    and, given the 2.5D factor, converts it to millimetres.

    Args:
        root_index (int): the root joint (the dataset's ``root_index``). Defaults to 0.
        root_relative (bool): make the normalised 3D target root-relative. Defaults to True.
    """

    def __init__(self, root_index: int = 0, root_relative: bool = True):
        self.root_index = int(root_index)
        self.root_relative = bool(root_relative)

    def encode(self, keypoints_2d: np.ndarray, image_size: Tuple[float, float],
               scores: Optional[np.ndarray] = None, target_3d: Optional[np.ndarray] = None,
               target_mm: Optional[np.ndarray] = None,
               root_index: Optional[int] = None) -> Dict[str, np.ndarray]:
        """Pixels -> the model's units.

        Args:
            keypoints_2d: (T, J, 2) pixels.
            image_size: (w, h) pixels.
            scores: (T, J) confidences; default 1.
            target_3d: (T, J, 3) pixel-scaled 3D, optional.
            target_mm: (T, J, 3) millimetres, optional.
            root_index: overrides the codec's root joint (a sample's metainfo).

        Returns:
            dict: ``lifting_inputs`` (T, J, 3) float32 and, when given, ``lifting_target``
            (T, J, 3) float32 normalised units and ``target_mm`` (T, J, 3) float32
            root-relative millimetres.
        """
        root = self.root_index if root_index is None else int(root_index)
        w, h = image_size
        if scores is None:
            scores = np.ones(keypoints_2d.shape[:-1], dtype=np.float32)
        out = dict(lifting_inputs=np.concatenate(
            [pixels_to_screen(keypoints_2d, w, h), scores[..., None].astype(np.float32)],
            axis=-1))
        if target_3d is not None:
            target = pixels_to_screen(target_3d, w, h)
            out['lifting_target'] = root_relative(target, root) if self.root_relative \
                else target
        if target_mm is not None:
            out['target_mm'] = root_relative(target_mm.astype(np.float32), root)
        return out

    def decode(self, pred, image_size: Optional[Tuple[float, float]] = None, factor_2_5d=None,
               root_index: Optional[int] = None) -> Dict[str, np.ndarray]:
        """The model's output -> root-relative normalised units and, with ``image_size`` and
        ``factor_2_5d`` (mm per pixel, scalar or (T,)), root-relative millimetres.

        Returns:
            dict: ``pred`` (same type and dtype as given) and, when the factor is given,
            ``pred_mm`` (T, J, 3) float64.
        """
        root = self.root_index if root_index is None else int(root_index)
        out = dict(pred=root_relative(pred, root))
        if factor_2_5d is not None:
            if image_size is None:
                raise ValueError('ScreenLiftingCodec.decode: millimetres need image_size '
                                 '(w, h) with factor_2_5d')
            out['pred_mm'] = normalized_to_mm(pred, image_size[0], factor_2_5d, root)
        return out

    @staticmethod
    def flip(pose, flip_indices: Sequence[int]):
        """:func:`flip_pose`."""
        return flip_pose(pose, flip_indices)
