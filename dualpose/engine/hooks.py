"""Hooks for exact resume."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from dualpose.registry import HOOKS


def get_rng_states() -> dict:
    """The states of python's, numpy's and torch's (CPU and CUDA) global generators."""
    states = dict(python=random.getstate(), numpy=np.random.get_state(),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        cuda = states['cuda']
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the global random generators' states in every checkpoint and restore them on
    resume, so a resumed run draws the same dropout, masks and noise as an uninterrupted one.

    Validation runs between epochs with the training generators' states set aside and put
    back afterwards: whether, and how often, a run validates does not change its training.
    (The main process's states are saved; with ``randomness.diff_rank_seed=False``, the
    default, every rank has the same ones.)
    """
    priority = 'VERY_HIGH'

    def __init__(self):
        self._resumed = None
        self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = get_rng_states()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # applied in before_train: Runner.resume may reseed after loading the checkpoint
        self._resumed = checkpoint.get('rng_state')

    def before_train(self, runner) -> None:
        if self._resumed is not None:
            set_rng_states(self._resumed)
            self._resumed = None

    def before_val(self, runner) -> None:
        self._before_val = get_rng_states()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            set_rng_states(self._before_val)
            self._before_val = None
