from .classification import confusion_matrix, cross_entropy, topk_hits
from .keypoint_eval import (MPI_INF_3DHP_AUC_THRESHOLDS, accel_error, auc_3d, mpjpe, mpjve,
                            n_mpjpe, p_mpjpe, pck_3d, per_joint_distance, relative_depth_error,
                            weighted_mpjpe)

__all__ = ['mpjpe', 'n_mpjpe', 'p_mpjpe', 'mpjve', 'accel_error', 'pck_3d', 'auc_3d',
           'per_joint_distance', 'weighted_mpjpe', 'relative_depth_error',
           'MPI_INF_3DHP_AUC_THRESHOLDS', 'topk_hits', 'confusion_matrix', 'cross_entropy']
