from .ema import MomentumTeacher
from .masking import TokenMasking, draw_token_mask
from .targets import TopKTargets, normalize_layer

__all__ = ['MomentumTeacher', 'draw_token_mask', 'TokenMasking', 'TopKTargets', 'normalize_layer']
