from .regression_head import LiftingRegressionHead

__all__ = ['LiftingRegressionHead']
