from .lifting_metric import PoseLiftingMetric
from .table import format_table

__all__ = ['PoseLiftingMetric', 'format_table']
