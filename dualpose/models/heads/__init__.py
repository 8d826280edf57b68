from .action_head import ActionClassificationHead
from .crl_head import CRLHead
from .regression_head import LiftingRegressionHead
from .trajectory_head import TrajectoryHead

__all__ = ['LiftingRegressionHead', 'CRLHead', 'TrajectoryHead', 'ActionClassificationHead']
