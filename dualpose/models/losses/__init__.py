from .lifting_losses import MPJPELoss, NMPJPELoss, VelocityLoss

__all__ = ['MPJPELoss', 'NMPJPELoss', 'VelocityLoss']
