"""The mmengine Runner with checkpoints that survive a crash and fail loudly on a mismatch."""
import copy
import os.path as osp

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from dualpose.registry import RUNNERS
from dualpose.utils.fileio import replace_atomic
from .checkpoint import (DDP_PREFIX, find_resumable_checkpoint, is_local_path, load_weights,
                         read_checkpoint)

# Hooks exact resume relies on, added by DualposeRunner whatever the config's custom_hooks
# say: a config that sets custom_hooks (e.g. a TensorBoard or visualisation hook) replaces the
# base list, and would otherwise silently drop the random states from every checkpoint.
REQUIRED_CUSTOM_HOOKS = ('RandomStateHook', )
# default_hooks entries that cannot be switched off with None: the sampler's epoch seed
REQUIRED_DEFAULT_HOOKS = dict(sampler_seed=dict(type='DistSamplerSeedHook'))


def _hook_type(hook) -> str:
    if isinstance(hook, dict):
        kind = hook.get('type')
        return kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))
    return type(hook).__name__


def with_required_hooks(default_hooks, custom_hooks):
    """``(default_hooks, custom_hooks)`` with the hooks exact resume needs present exactly
    once (the first one the config gives is kept, with its arguments; later copies of the same
    type are dropped); returns the lists and what was changed, in words."""
    default_hooks = dict(default_hooks or {})
    custom_hooks = list(custom_hooks or [])
    changes = []
    for key, hook in REQUIRED_DEFAULT_HOOKS.items():
        if key in default_hooks and default_hooks[key] is None:
            default_hooks[key] = copy.deepcopy(hook)
            changes.append(f'default_hooks.{key}=None ignored ({hook["type"]} is needed for '
                           'the data order of each epoch and for exact resume)')
    for kind in REQUIRED_CUSTOM_HOOKS:
        found = [i for i, h in enumerate(custom_hooks) if _hook_type(h) == kind]
        if not found:
            custom_hooks.append(dict(type=kind))
            changes.append(f'{kind} added to custom_hooks (exact resume needs it)')
        for i in reversed(found[1:]):
            del custom_hooks[i]
            changes.append(f'a second {kind} dropped from custom_hooks')
    return default_hooks, custom_hooks, changes


@RUNNERS.register_module()
class DualposeRunner(Runner):
    """``Runner`` with four changes, selected by ``runner_type = 'DualposeRunner'`` (set in
    ``configs/_base_/default_runtime.py``):

    * the hooks exact resume needs (``RandomStateHook``, the sampler seed hook) are always
      registered, once, whatever the config's ``custom_hooks`` say (:func:`with_required_hooks`);

    * ``save_checkpoint`` writes ``<name>.part`` and renames it into place, so a crash while
      writing never leaves a truncated file under a checkpoint's name (and ``last_checkpoint``
      is only updated after the rename);
    * ``--resume auto`` takes the latest checkpoint that loads, skipping unreadable ones;
    * ``load_checkpoint`` (``load_from``, ``--resume``, ``tools/test.py``) raises an error
      naming the file, keys and shapes when the checkpoint does not fit the model, where
      mmengine would log a warning and go on with randomly initialised weights.
    """

    @classmethod
    def from_cfg(cls, cfg):
        """``Runner.from_cfg`` after the config's one ``seq_len`` is given to its datasets
        (:func:`dualpose.utils.config.resolve_seq_len`; a no-op when ``read_config`` did it)."""
        from dualpose.utils.config import resolve_seq_len
        return super().from_cfg(resolve_seq_len(cfg))

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        """``Runner.register_hooks`` with the hooks exact resume needs always present
        (:func:`with_required_hooks`), whatever ``custom_hooks`` says."""
        default_hooks, custom_hooks, changes = with_required_hooks(default_hooks, custom_hooks)
        for change in changes:
            if 'added to custom_hooks' in change:
                self.logger.debug(change)  # the usual case: a config that lists its own hooks
            else:
                self.logger.warning(change)
        if not any(_hook_type(h) == 'ConsoleHeaderHook' for h in custom_hooks):
            custom_hooks.append(dict(type='ConsoleHeaderHook'))  # the short console header
        super().register_hooks(default_hooks, custom_hooks)

    def build_logger(self, *args, **kwargs):
        """``Runner.build_logger`` with a quiet console (:mod:`dualpose.engine.console`): the
        environment, config and hook dumps go to the log file only unless ``--verbose``."""
        from .console import quiet_console
        logger = super().build_logger(*args, **kwargs)
        quiet_console(logger)
        return logger

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        local = is_local_path(out_dir) and kwargs.get('backend_args') is None \
            and kwargs.get('file_client_args') is None
        if not local:
            return super().save_checkpoint(out_dir, filename, *args, **kwargs)
        part = f'{filename}.part'
        super().save_checkpoint(out_dir, part, *args, **kwargs)
        if self.rank == 0:  # only the main process writes (Runner.save_checkpoint is master-only)
            replace_atomic(osp.join(out_dir, part), osp.join(out_dir, filename))

    def load_or_resume(self) -> None:
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        path = find_resumable_checkpoint(self.work_dir, logger=self.logger)
        if path is None:
            self.logger.info(f'no checkpoint to resume from in {self.work_dir}; '
                             'training from the start')
            return None
        self.logger.info(f'auto-resuming from {path}')
        self.resume(path)
        self._has_loaded = True

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=DDP_PREFIX):
        """``Runner.load_checkpoint`` through :func:`dualpose.engine.checkpoint.load_weights`:
        a mismatch is an error naming the file, keys and shapes (``strict`` is accepted for
        mmengine's callers; missing or misshapen weights are refused either way)."""
        checkpoint = read_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        load_weights(model, checkpoint, filename, revise_keys=revise_keys,
                     warn=self.logger.warning)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
