from .keypoint_eval import mpjpe, mpjve, n_mpjpe, p_mpjpe

__all__ = ['mpjpe', 'n_mpjpe', 'p_mpjpe', 'mpjve']
