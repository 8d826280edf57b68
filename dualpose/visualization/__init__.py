"""Skeleton drawing (2D inputs, 3D targets and predictions)."""
from .skeleton_plot import draw_pose_2d, draw_pose_3d, render_clip, render_figure

__all__ = ['draw_pose_2d', 'draw_pose_3d', 'render_clip', 'render_figure']
