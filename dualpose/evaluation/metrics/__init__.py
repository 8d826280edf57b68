from .dump_results import DumpLiftingResults
from .lifting_metric import PoseLiftingMetric
from .mpi_inf_3dhp_metric import MpiInf3dhpMetric
from .table import format_table

__all__ = ['PoseLiftingMetric', 'MpiInf3dhpMetric', 'DumpLiftingResults', 'format_table']
