"""Inference APIs: build a lifter from a config and checkpoint, lift 2D keypoint sequences
(``inference_lifting``, every person of a video: ``inference_people``) or live, frame by frame
(``LiftingStream``); smoothing (one-euro), BVH export; ``register_all_modules`` and the entry
points' set-up (setup_env); model size (complexity)."""
from .inference import (CAMERA_UNITS, UNITS, LiftingResult, PeopleLiftingResult, fill_missing,
                        has_trajectory, inference_lifting, inference_people, init_model,
                        load_weights, normalized_to_mm, sliding_window_predict,
                        sliding_window_predict_many)
from .setup_env import register_all_modules
from .smoothing import OneEuroSmoothing, one_euro_filter
from .stream import LiftingStream

__all__ = [
    'UNITS', 'CAMERA_UNITS', 'LiftingResult', 'PeopleLiftingResult', 'fill_missing',
    'has_trajectory', 'inference_lifting', 'inference_people', 'init_model', 'load_weights',
    'normalized_to_mm', 'sliding_window_predict', 'sliding_window_predict_many',
    'register_all_modules', 'LiftingStream', 'OneEuroSmoothing', 'one_euro_filter'
]
