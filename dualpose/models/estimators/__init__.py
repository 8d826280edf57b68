from .action_recognizer import ActionRecognizer
from .contextual_distiller import ContextualDistiller
from .pose_lifter import PoseLifter

__all__ = ["ContextualDistiller", "PoseLifter", "ActionRecognizer"]
