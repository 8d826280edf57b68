from .contextual_distiller import ContextualDistiller
from .pose_lifter import PoseLifter

__all__ = ["ContextualDistiller", "PoseLifter"]
