"""Coordinate codecs: one owner per coordinate convention (see :mod:`.screen_lifting`)."""
from .screen_lifting import (ScreenLiftingCodec, flip_pose, normalized_to_mm, pixels_to_screen,
                             root_relative, screen_to_pixels)

__all__ = ['ScreenLiftingCodec', 'root_relative', 'pixels_to_screen', 'screen_to_pixels',
           'normalized_to_mm', 'flip_pose']
