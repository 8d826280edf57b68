"""An example of extending dualpose from outside the package: a custom temporal stream and a
custom loss, registered into dualpose's registries and reached from a config through
``custom_imports``."""
from .bone_length_loss import BoneLengthLoss
from .temporal_conv_stream import TemporalConvStream

__all__ = ['BoneLengthLoss', 'TemporalConvStream']
