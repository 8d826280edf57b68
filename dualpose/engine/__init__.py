"""Components that plug into the mmengine training loop: the runner with crash-safe
checkpoints, the exactly-resumable train loop, the random-state hook, the autocast optim wrapper."""
from . import console  # noqa: F401  (registers ConsoleHeaderHook)
from .checkpoint import check_state_dict_matches, find_resumable_checkpoint
from .hooks import RandomStateHook, get_rng_states, set_rng_states
from .loops import ResumableEpochBasedTrainLoop
from .optim_wrapper import AutocastOptimWrapper
from .runner import DualposeRunner

__all__ = ['DualposeRunner', 'AutocastOptimWrapper', 'ResumableEpochBasedTrainLoop', 'RandomStateHook', 'get_rng_states',
           'set_rng_states', 'check_state_dict_matches', 'find_resumable_checkpoint']
