from .classification_loss import CrossEntropyLoss
from .lifting_losses import MPJPELoss, NMPJPELoss, TrajectoryLoss, VelocityLoss
from .representation_loss import RepresentationLoss

__all__ = ['MPJPELoss', 'NMPJPELoss', 'VelocityLoss', 'TrajectoryLoss', 'RepresentationLoss',
           'CrossEntropyLoss']
