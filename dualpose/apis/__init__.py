"""Inference APIs: build a lifter from a config and checkpoint, lift 2D keypoint sequences
(``inference_lifting``) or live, frame by frame (``LiftingStream``);
``register_all_modules`` and the entry points' set-up (setup_env); model size (complexity)."""
from .inference import (UNITS, LiftingResult, fill_missing, inference_lifting, init_model,
                        load_weights, normalized_to_mm, sliding_window_predict)
from .setup_env import register_all_modules
from .stream import LiftingStream

__all__ = [
    'UNITS', 'LiftingResult', 'fill_missing', 'inference_lifting', 'init_model',
    'load_weights', 'normalized_to_mm', 'sliding_window_predict', 'register_all_modules',
    'LiftingStream'
]
