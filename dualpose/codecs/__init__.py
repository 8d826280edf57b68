"""Coordinate codecs: one owner per coordinate convention (see :mod:`.screen_lifting` and
:mod:`.camera_space`)."""
from .camera_space import (DEFAULT_CAMERA_RULE, CameraIntrinsics, CameraSpaceCodec,
                           back_project, camera_space_pose, check_camera, default_camera,
                           flip_camera_intrinsics, make_camera, project_points,
                           relative_from_camera, root_from_trajectory, trajectory_from_root)
from .screen_lifting import (ScreenLiftingCodec, flip_pose, normalized_to_mm, pixels_to_screen,
                             root_relative, screen_to_pixels)

__all__ = ['ScreenLiftingCodec', 'root_relative', 'pixels_to_screen', 'screen_to_pixels',
           'normalized_to_mm', 'flip_pose', 'CameraIntrinsics', 'CameraSpaceCodec',
           'DEFAULT_CAMERA_RULE', 'back_project', 'camera_space_pose', 'check_camera',
           'default_camera', 'flip_camera_intrinsics', 'make_camera', 'project_points',
           'relative_from_camera', 'root_from_trajectory', 'trajectory_from_root']
