from .action_metric import ActionAccuracyMetric
from .camera_space_metric import CameraSpaceMetric
from .dump_results import DumpLiftingResults
from .lifting_metric import PoseLiftingMetric
from .mpi_inf_3dhp_metric import MpiInf3dhpMetric
from dualpose.utils.table import format_table  # re-exported: its old home

__all__ = ['PoseLiftingMetric', 'CameraSpaceMetric', 'MpiInf3dhpMetric', 'DumpLiftingResults', 'format_table',
           'ActionAccuracyMetric']
