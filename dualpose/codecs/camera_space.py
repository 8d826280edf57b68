"""Metric camera space: the pinhole camera, perspective back-projection, the root trajectory.

Frames and units:

- **camera frame**, millimetres: origin at the camera centre, x right, y down, z forward (the
  depth), the frame of OpenCV and of Human3.6M's camera coordinates;
- **intrinsics** ``(fx, fy, cx, cy)``: focal lengths and principal point in pixels of a
  pinhole camera without lens distortion, a pixel being ``u = fx x / z + cx``,
  ``v = fy y / z + cy``;
- the lifting models' **normalised screen units** (:mod:`.screen_lifting`).

A lifter's root-relative output keeps x, y in the image plane (the offsets of each joint's
projection from the root's) and gives depth offsets in the same pixel scale. With the root's
camera-space position (a trajectory head's output) every joint is put in the camera frame by
its own ray: its depth is the root's plus its offset in mm (at ``Z_root / f`` mm per pixel),
and its x, y follow from its pixel through the intrinsics
(:func:`camera_space_pose`): perspective-correct, where one 2.5D factor for all joints scales
the pose as if it were flat (:func:`~.screen_lifting.normalized_to_mm`).

The trajectory head predicts per frame ``(du, dv, d)``: the root's image position as an
offset ``(du, dv)`` from the input's root (normalised screen units) and
``d = log(metres per normalised screen unit at the root's depth)``, i.e. the 2.5D factor,
which needs no intrinsics. The depth is then ``exp(d) * 1000 / (w / 2) * (fx + fy) / 2`` mm
(:func:`root_from_trajectory`): the intrinsics enter only there.

The functions take numpy arrays or torch tensors; intrinsics are (..., 4) and broadcast.
"""
import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from dualpose.registry import KEYPOINT_CODECS

__all__ = ['CameraIntrinsics', 'make_camera', 'default_camera', 'check_camera',
           'DEFAULT_CAMERA_RULE', 'project_points', 'back_project', 'root_from_trajectory',
           'trajectory_from_root', 'camera_space_pose', 'relative_from_camera',
           'flip_camera_intrinsics', 'CameraSpaceCodec']

DEFAULT_CAMERA_RULE = ('fx = fy = max(w, h) (a 53.1 degree field of view across the longer '
                       'side), principal point at the image centre (w / 2, h / 2)')


@dataclass
class CameraIntrinsics:
    """A pinhole camera's intrinsics in pixels, and where they came from.

    Attributes:
        fx, fy: focal lengths (pixels, > 0).
        cx, cy: principal point (pixels, inside the image).
        source: ``'given'``, or the default's rule (:data:`DEFAULT_CAMERA_RULE`).
    """
    fx: float
    fy: float
    cx: float
    cy: float
    source: str = 'given'

    def as_array(self) -> np.ndarray:
        """(4,) float64 ``(fx, fy, cx, cy)``."""
        return np.array([self.fx, self.fy, self.cx, self.cy], dtype=np.float64)

    @property
    def is_default(self) -> bool:
        return self.source != 'given'

    def describe(self) -> str:
        what = 'given' if not self.is_default else f'DEFAULT, not given: {self.source}'
        return (f'pinhole camera, no lens distortion: fx {self.fx:g}, fy {self.fy:g}, '
                f'cx {self.cx:g}, cy {self.cy:g} pixels ({what})')


def default_camera(image_size: Sequence[float]) -> CameraIntrinsics:
    """The documented default when the intrinsics are unknown (:data:`DEFAULT_CAMERA_RULE`):
    depths then scale with the true focal length over ``max(w, h)``."""
    w, h = (float(v) for v in image_size)
    f = max(w, h)
    return CameraIntrinsics(f, f, w / 2, h / 2,
                            source=f'{DEFAULT_CAMERA_RULE} = {f:g} px for a {w:g} x {h:g} image')


def _pair(value, name: str, where: str) -> Tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f'{where}: {name} must be two numbers (pixels), got {value!r}') from None
    return a, b


def check_camera(fx, fy, cx, cy, image_size: Sequence[float], where: str = 'camera',
                 focal_name: str = 'focal', principal_name: str = 'principal'
                 ) -> CameraIntrinsics:
    """Intrinsics that can be right, else a ValueError naming the value: a focal length that
    is not a finite number > 0, a principal point outside the image (``0 <= cx <= w``,
    ``0 <= cy <= h``) or not finite."""
    w, h = (float(v) for v in image_size)
    for axis, f in (('fx', fx), ('fy', fy)):
        if not (math.isfinite(f) and f > 0):
            raise ValueError(f'{where}: {focal_name} {axis}={f!r} pixels cannot be right: a '
                             'focal length must be a finite number > 0')
    for axis, c, side in (('cx', cx, w), ('cy', cy, h)):
        if not (math.isfinite(c) and 0 <= c <= side):
            raise ValueError(f'{where}: {principal_name} {axis}={c!r} pixels lies outside the '
                             f'{w:g} x {h:g} image (0 <= {axis} <= {side:g}); the principal '
                             'point is where the optical axis meets the image')
    return CameraIntrinsics(float(fx), float(fy), float(cx), float(cy))


def make_camera(camera, image_size: Sequence[float], where: str = 'camera'
                ) -> CameraIntrinsics:
    """Intrinsics from what a user gives, checked (:func:`check_camera`).

    ``camera`` may be None (the default, :func:`default_camera`, marked as such), a
    :class:`CameraIntrinsics`, ``dict(focal=(fx, fy), principal=(cx, cy))`` (principal
    defaults to the image centre; a single focal number means fx = fy), ``dict(fx=, fy=,
    cx=, cy=)`` or a sequence ``(fx, fy, cx, cy)``.
    """
    w, h = (float(v) for v in image_size)
    if camera is None:
        return default_camera((w, h))
    if isinstance(camera, CameraIntrinsics):
        if camera.is_default:
            return camera
        return check_camera(camera.fx, camera.fy, camera.cx, camera.cy, (w, h), where)
    if isinstance(camera, dict):
        keys = set(camera)
        if keys <= {'focal', 'principal'} and 'focal' in keys:
            focal = camera['focal']
            if isinstance(focal, (int, float)):
                focal = (focal, focal)
            fx, fy = _pair(focal, 'focal', where)
            principal = camera.get('principal')
            cx, cy = (w / 2, h / 2) if principal is None else _pair(principal, 'principal',
                                                                     where)
        elif keys == {'fx', 'fy', 'cx', 'cy'}:
            fx, fy, cx, cy = (float(camera[k]) for k in ('fx', 'fy', 'cx', 'cy'))
        else:
            raise ValueError(f"{where}: expected dict(focal=(fx, fy), principal=(cx, cy)) or "
                             f"dict(fx=, fy=, cx=, cy=) in pixels, got keys {sorted(keys)}")
        return check_camera(fx, fy, cx, cy, (w, h), where)
    try:
        values = [float(v) for v in np.asarray(camera, dtype=np.float64).reshape(-1)]
    except (TypeError, ValueError):
        values = []
    if len(values) != 4:
        raise ValueError(f'{where}: expected (fx, fy, cx, cy) in pixels, '
                         f'dict(focal=..., principal=...) or None, got {camera!r}')
    return check_camera(*values, (w, h), where)


# ------------------------------------------------------------------------------- arithmetic
def _exp(x):
    return x.exp() if isinstance(x, torch.Tensor) else np.exp(x)


def _split(intrinsics):
    k = intrinsics
    return k[..., 0:1], k[..., 1:2], k[..., 2:3], k[..., 3:4]


def project_points(points, intrinsics):
    """Camera-space points (..., 3) mm -> pixels (..., 2) (pinhole); ``intrinsics`` (..., 4)
    broadcast against the points' leading dimensions."""
    fx, fy, cx, cy = _split(intrinsics)
    z = points[..., 2:3]
    u = fx * points[..., 0:1] / z + cx
    v = fy * points[..., 1:2] / z + cy
    return (torch.cat if isinstance(points, torch.Tensor) else np.concatenate)([u, v], -1)


def back_project(pixels, depth, intrinsics):
    """Pixels (..., 2) and depths (..., 1) mm -> camera-space points (..., 3) mm."""
    fx, fy, cx, cy = _split(intrinsics)
    x = (pixels[..., 0:1] - cx) * depth / fx
    y = (pixels[..., 1:2] - cy) * depth / fy
    return (torch.cat if isinstance(pixels, torch.Tensor) else np.concatenate)([x, y, depth],
                                                                               -1)


def _half_width(image_size):
    """(..., 1) half image widths and (..., 1) h / w from (..., 2) or (2,) sizes."""
    return image_size[..., 0:1] / 2, image_size[..., 1:2] / image_size[..., 0:1]


def root_from_trajectory(traj, root_2d, image_size, intrinsics):
    """A trajectory head's output -> the root's camera-space position.

    Args:
        traj: (..., 3) ``(du, dv, d)`` (see the module doc).
        root_2d: (..., 2) the input's root in normalised screen units.
        image_size: (..., 2) or (2,) ``(w, h)`` pixels, broadcast like ``intrinsics``.
        intrinsics: (..., 4) or (4,) ``(fx, fy, cx, cy)`` pixels.

    Returns:
        (..., 3) mm, camera frame.
    """
    half, aspect = _half_width(image_size)
    u = (root_2d[..., 0:1] + traj[..., 0:1] + 1) * half
    v = (root_2d[..., 1:2] + traj[..., 1:2] + aspect) * half
    fx, fy, _, _ = _split(intrinsics)
    depth = _exp(traj[..., 2:3]) * 1000.0 / half * (fx + fy) / 2
    pixels = (torch.cat if isinstance(u, torch.Tensor) else np.concatenate)([u, v], -1)
    return back_project(pixels, depth, intrinsics)


def trajectory_from_root(root_camera, root_2d, image_size, intrinsics):
    """The inverse of :func:`root_from_trajectory`: the head's target ``(du, dv, d)`` for a
    root at ``root_camera`` (..., 3) mm seen with its input root at ``root_2d``."""
    half, aspect = _half_width(image_size)
    uv = project_points(root_camera, intrinsics)
    du = uv[..., 0:1] / half - 1 - root_2d[..., 0:1]
    dv = uv[..., 1:2] / half - aspect - root_2d[..., 1:2]
    fx, fy, _, _ = _split(intrinsics)
    ratio = root_camera[..., 2:3] * half / ((fx + fy) / 2) / 1000.0
    d = ratio.log() if isinstance(ratio, torch.Tensor) else np.log(ratio)
    return (torch.cat if isinstance(du, torch.Tensor) else np.concatenate)([du, dv, d], -1)


def camera_space_pose(relative, root_camera, image_size, intrinsics):
    """Each joint in the camera frame, back-projected through the intrinsics.

    Args:
        relative: (..., J, 3) a lifter's root-relative output, normalised screen units.
        root_camera: (..., 3) the root's camera-space position, mm.
        image_size: (..., 2) or (2,) ``(w, h)``; intrinsics: (..., 4) or (4,).

    Returns:
        (..., J, 3) mm, camera frame: joint j at depth ``Z_root + z_j (w / 2) Z_root / f``
        (``f = (fx + fy) / 2``) on the ray through its pixel, the root's pixel plus
        ``(x_j, y_j) (w / 2)``.
    """
    half, _ = _half_width(image_size)
    half = half[..., None, :]
    k = intrinsics[..., None, :]
    fx, fy, _, _ = _split(k)
    root = root_camera[..., None, :]
    root_px = project_points(root, k)
    factor = root[..., 2:3] / ((fx + fy) / 2)          # mm per pixel at the root's depth
    pixels = root_px + relative[..., :2] * half
    depth = root[..., 2:3] + relative[..., 2:3] * half * factor
    return back_project(pixels, depth, k)


def relative_from_camera(points, image_size, intrinsics, root_index: int = 0):
    """The inverse of :func:`camera_space_pose`: camera-space joints (..., J, 3) mm -> the
    root-relative normalised output a perfect lifter gives (the synthetic generator's
    ``joint3d_image`` convention, normalised)."""
    half, _ = _half_width(image_size)
    half = half[..., None, :]
    k = intrinsics[..., None, :]
    fx, fy, _, _ = _split(k)
    px = project_points(points, k)
    root = points[..., root_index:root_index + 1, :]
    factor = root[..., 2:3] / ((fx + fy) / 2)
    xy = (px - px[..., root_index:root_index + 1, :]) / half
    z = (points[..., 2:3] - root[..., 2:3]) / factor / half
    return (torch.cat if isinstance(xy, torch.Tensor) else np.concatenate)([xy, z], -1)


def flip_camera_intrinsics(intrinsics, image_width):
    """The intrinsics of the left-right mirrored image: ``cx -> w - cx`` (a camera-space point
    mirrored by ``x -> -x`` then projects to ``w - u``)."""
    out = intrinsics.clone() if isinstance(intrinsics, torch.Tensor) else np.array(
        intrinsics, dtype=np.float64, copy=True)
    out[..., 2] = image_width - out[..., 2]
    return out


@KEYPOINT_CODECS.register_module()
class CameraSpaceCodec:
    """Camera-space metric 3D from a lifter's root-relative output and a trajectory head's,
    in the style of MMPose's codecs (``encode``: camera-space ground truth -> targets;
    ``decode``: predictions -> millimetres in the camera frame).

    Args:
        root_index (int): the root joint. Defaults to 0.
    """

    def __init__(self, root_index: int = 0):
        self.root_index = int(root_index)

    def encode(self, points_camera: np.ndarray, image_size, intrinsics,
               inputs_root_2d: Optional[np.ndarray] = None) -> dict:
        """(T, J, 3) camera-space mm -> ``relative`` (T, J, 3) normalised, ``root_camera``
        (T, 3) mm and, given the input's root (T, 2) normalised, ``trajectory`` (T, 3)."""
        size = np.asarray(image_size, dtype=np.float64)
        k = np.asarray(intrinsics, dtype=np.float64)
        pts = np.asarray(points_camera, dtype=np.float64)
        out = dict(relative=relative_from_camera(pts, size, k, self.root_index),
                   root_camera=pts[..., self.root_index, :])
        if inputs_root_2d is not None:
            out['trajectory'] = trajectory_from_root(out['root_camera'], inputs_root_2d,
                                                     size, k)
        return out

    def decode(self, relative, trajectory, inputs_root_2d, image_size, intrinsics) -> dict:
        """``relative`` (T, J, 3), ``trajectory`` (T, 3), the input's root (T, 2) ->
        ``root_camera`` (T, 3) and ``keypoints_camera`` (T, J, 3), mm, camera frame."""
        size = np.asarray(image_size, dtype=np.float64)
        k = np.asarray(intrinsics, dtype=np.float64)
        root = root_from_trajectory(np.asarray(trajectory, dtype=np.float64),
                                    np.asarray(inputs_root_2d, dtype=np.float64), size, k)
        return dict(root_camera=root, keypoints_camera=camera_space_pose(
            np.asarray(relative, dtype=np.float64), root, size, k))


CameraLike = Union[None, CameraIntrinsics, dict, Sequence[float]]
