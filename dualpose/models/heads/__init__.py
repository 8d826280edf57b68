from .crl_head import CRLHead
from .regression_head import LiftingRegressionHead

__all__ = ['LiftingRegressionHead', 'CRLHead']
