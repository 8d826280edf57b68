from .ema import MomentumTeacher
from .masking import draw_token_mask

__all__ = ['MomentumTeacher', 'draw_token_mask']
