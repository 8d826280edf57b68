from .lifting_losses import MPJPELoss, NMPJPELoss, VelocityLoss
from .representation_loss import RepresentationLoss

__all__ = ['MPJPELoss', 'NMPJPELoss', 'VelocityLoss', 'RepresentationLoss']
