from .pose_lifter import PoseLifter

__all__ = ['PoseLifter']
