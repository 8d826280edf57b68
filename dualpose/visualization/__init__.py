"""Skeleton drawing (2D inputs, 3D targets and predictions), the lifting visualiser and the
hook that draws results during test, validation and training."""
from .html_viewer import viewer_html
from .local_visualizer import (AnimationWriter, PoseLiftingVisualizer, SkeletonAnimator,
                               default_frames, draw_lifting, write_image)
from .skeleton_plot import (draw_pose_2d, draw_pose_3d, figure_to_array, render_clip,
                            render_figure)
from .vis_hook import LiftingVisualizationHook

__all__ = [
    'draw_pose_2d', 'draw_pose_3d', 'render_clip', 'render_figure', 'figure_to_array',
    'AnimationWriter',
    'PoseLiftingVisualizer', 'SkeletonAnimator', 'default_frames', 'draw_lifting',
    'write_image', 'LiftingVisualizationHook', 'viewer_html'
]
