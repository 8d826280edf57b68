"""Inference APIs: build a lifter from a config and checkpoint, lift 2D keypoint sequences."""
from .inference import (UNITS, LiftingResult, fill_missing, inference_lifting, init_model,
                        load_weights, normalized_to_mm, sliding_window_predict)

__all__ = [
    'UNITS', 'LiftingResult', 'fill_missing', 'inference_lifting', 'init_model',
    'load_weights', 'normalized_to_mm', 'sliding_window_predict'
]
