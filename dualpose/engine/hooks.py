"""Hooks for exact resume, and the checkpoint hook that never loses the last good state."""
import os
import os.path as osp
import random

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook

from dualpose.registry import HOOKS
from dualpose.utils.fileio import write_atomic


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


@HOOKS.register_module()
class DualposeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with two changes (``configs/_base_/default_runtime.py``
    selects it):

    * ``last_checkpoint`` holds the checkpoint's path relative to the work dir (written
      atomically), so a copied work dir names its own files, not those of the original;
    * a new best checkpoint is written (and renamed into place) before the previous best is
      removed: a crash in between leaves two best files, never none.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        super()._save_checkpoint_with_step(runner, step, meta)
        if not is_main_process() or self.last_ckpt is None:
            return
        target = str(self.last_ckpt)
        if '://' not in target:
            rel = osp.relpath(osp.abspath(target), osp.abspath(runner.work_dir))
            write_atomic(osp.join(runner.work_dir, 'last_checkpoint'), rel)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        previous = ([self.best_ckpt_path] if getattr(self, 'best_ckpt_path', None) else []) + \
            [p for p in (getattr(self, 'best_ckpt_path_dict', None) or {}).values() if p]
        # hide the previous best from mmengine's hook, which removes it before writing anew
        self.best_ckpt_path = None
        hidden = dict(getattr(self, 'best_ckpt_path_dict', None) or {})
        if hidden:
            self.best_ckpt_path_dict = {k: None for k in hidden}
        super()._save_best_checkpoint(runner, metrics)
        if self.best_ckpt_path is None and previous and not hidden:
            self.best_ckpt_path = previous[0]          # not improved: still the old one
        for key, path in hidden.items():
            if self.best_ckpt_path_dict.get(key) is None:
                self.best_ckpt_path_dict[key] = path
        current = {self.best_ckpt_path,
                   *(getattr(self, 'best_ckpt_path_dict', None) or {}).values()}
        if is_main_process():
            for path in previous:
                if path not in current and osp.isfile(path):
                    os.remove(path)
                    runner.logger.info(f'The previous best checkpoint {path} is removed')


@HOOKS.register_module()
class DeployBackendHook(Hook):
    """Score the test split through a deployment backend (``tools/test.py --backend
    onnxruntime [--onnx-file FILE] --precision fp32|bf16|int8``): once the checkpoint is
    loaded, the model's tensors are handed to :func:`dualpose.deploy.attach_backend`, so the
    same data, flip test, windows and metrics run, only the backbone and heads are computed
    by ONNX Runtime or in reduced precision. The ONNX file is checked against the config and
    the checkpoint. Detached after the test."""

    def __init__(self, backend: str = 'torch', precision: str = 'fp32',
                 onnx_file: str = None, threads: int = None):
        from dualpose.deploy import BACKENDS, PRECISIONS
        if backend not in BACKENDS:
            raise ValueError(f'DeployBackendHook: backend must be one of {BACKENDS}, got '
                             f'{backend!r}')
        if precision not in PRECISIONS:
            raise ValueError(f'DeployBackendHook: precision must be one of {PRECISIONS}, got '
                             f'{precision!r}')
        self.backend, self.precision = backend, precision
        self.onnx_file, self.threads = onnx_file, threads

    @staticmethod
    def _model(runner):
        from mmengine.model import is_model_wrapper
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_test(self, runner) -> None:
        from dualpose.deploy import attach_backend, describe_backend
        cfg = runner.cfg
        # the root joint from the test set's metainfo (the loop has built it by now)
        dataset = getattr(getattr(runner.test_loop, 'dataloader', None), 'dataset', None)
        root = int((getattr(dataset, 'metainfo', None) or {}).get('root_index', 0))
        model = self._model(runner)
        attach_backend(model, self.backend, self.precision, self.onnx_file, self.threads,
                       model_cfg=cfg.model, config_name=cfg.filename or 'the config',
                       checkpoint=cfg.get('load_from'), root_index=root)
        runner.logger.info(f'test backend: {describe_backend(model)}')

    def after_test(self, runner) -> None:
        self._model(runner).deploy_backend = None
