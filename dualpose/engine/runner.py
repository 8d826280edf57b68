"""The mmengine Runner with checkpoints that survive a crash, resumes that are right or refuse,
one training run per work dir, the hooks exact resume needs always registered, and a quiet
console."""
import copy
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from dualpose.registry import RUNNERS
from dualpose.utils.fileio import replace_atomic, write_atomic
from .checkpoint import (DDP_PREFIX, _flatten, _plain, find_resumable_checkpoint,
                         is_local_path, load_weights, read_checkpoint)
from .lock import WorkDirLock

# config sections whose values the checkpoint's optimizer / scheduler state would silently
# replace on resume: a change is refused (docs/training.md, "Resuming")
RESUME_FIXED_SECTIONS = ('optim_wrapper', 'param_scheduler')


def first_non_finite(model: torch.nn.Module):
    """``(name, value)`` of the first parameter or buffer holding NaN or inf, else None."""
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            bad = tensor.detach()[~torch.isfinite(tensor.detach())].flatten()[0].item()
            return name, bad
    return None

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
    """``Runner`` with these changes, selected by ``runner_type = 'DualposeRunner'`` (set in
    ``configs/_base_/default_runtime.py``):

    * the hooks exact resume needs (``RandomStateHook``, the sampler seed hook) are always
      registered, once, whatever the config's ``custom_hooks`` say (:func:`with_required_hooks`);

    * ``save_checkpoint`` writes ``<name>.part`` and renames it into place, so a crash while
      writing never leaves a truncated file under a checkpoint's name; a model with a NaN or
      infinite weight is never written (the error names the iteration and the parameter);
      every checkpoint stores the model config (``meta['model_cfg']``) and the resume
      position (``meta['resume_position']``);
    * ``--resume auto`` takes the latest checkpoint in the work dir that loads, skipping
      unreadable ones and never one outside the work dir;
    * ``resume`` refuses a checkpoint whose optimizer or scheduler settings differ from the
      config's, and one whose data position does not map onto the new dataloader;
    * ``load_checkpoint`` (``load_from``, ``--resume``, ``tools/test.py``) raises an error
      naming the file, keys and shapes when the checkpoint does not fit the model, and when
      its stored model config names another architecture;
    * ``train`` holds ``<work_dir>/train.lock`` (one run per work dir), and the config is
      dumped to the work dir only once the checkpoint to resume from has loaded.
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

    # ------------------------------------------------------------------ config dump, lock
    def dump_config(self) -> None:
        # called by Runner.__init__: deferred until the resume (if any) has succeeded, so a
        # refused run leaves the work dir's config dump as it was
        self._config_dump_pending = True

    def _dump_config_now(self) -> None:
        if not getattr(self, '_config_dump_pending', False) or self.rank != 0:
            return
        self._config_dump_pending = False
        name = osp.basename(self.cfg.filename) if self.cfg.filename else f'{self.timestamp}.py'
        path = osp.join(self.work_dir, name)
        if path.endswith('.py'):
            write_atomic(path, self.cfg.pretty_text)
        else:
            self.cfg.dump(path)

    def train(self):
        lock = WorkDirLock(self.work_dir, warn=self.logger.warning) if self.rank == 0 else None
        if lock is not None:
            lock.acquire()
        try:
            return super().train()
        finally:
            if lock is not None:
                lock.release()

    # ------------------------------------------------------------------------- saving
    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        model = self.model.module if is_model_wrapper(self.model) else self.model
        bad = first_non_finite(model)
        if bad is not None:
            raise FloatingPointError(
                f'iteration {self.iter + 1} (epoch {self.epoch + 1}): parameter {bad[0]!r} '
                f'is {bad[1]}; not writing checkpoint {filename!r} (the last good checkpoint '
                'stays as it was)')
        meta = kwargs.get('meta')
        meta = dict(meta) if isinstance(meta, dict) else {}
        meta['model_cfg'] = _plain(self.cfg.get('model'))
        loop = self._train_loop
        if hasattr(loop, 'position'):
            epoch = meta.get('epoch', self.epoch + 1 if kwargs.get('by_epoch', True)
                             else self.epoch)
            meta['resume_position'] = loop.position(epoch)
        kwargs['meta'] = meta
        local = is_local_path(out_dir) and kwargs.get('backend_args') is None \
            and kwargs.get('file_client_args') is None
        if not local:
            return super().save_checkpoint(out_dir, filename, *args, **kwargs)
        part = f'{filename}.part'
        part_path = osp.join(out_dir, part)
        try:
            super().save_checkpoint(out_dir, part, *args, **kwargs)
            if self.rank == 0:  # only the main process writes (Runner.save_checkpoint is
                replace_atomic(part_path, osp.join(out_dir, filename))      # master-only)
        except OSError as err:
            if self.rank == 0 and osp.lexists(part_path):
                os.remove(part_path)
            raise OSError(err.errno, f'could not write checkpoint '
                          f'{osp.join(out_dir, filename)!r} ({err.strerror or err}); the '
                          'partial file was removed') from err

    # ------------------------------------------------------------------ loading, resuming
    def load_or_resume(self) -> None:
        self._load_or_resume()
        self._dump_config_now()

    def _load_or_resume(self) -> None:
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

    def resume(self, filename, *args, **kwargs):
        checkpoint = read_checkpoint(filename)
        self._check_resume_settings(checkpoint, filename)
        loop = self.train_loop
        saved = (checkpoint.get('meta') or {}).get('resume_position')
        if saved is not None and hasattr(loop, 'current_position'):
            from .loops import map_resume_position
            map_resume_position(saved, loop.current_position())   # refuses before loading
            now = loop.current_position()
            changed = {k: (saved.get(k), now[k]) for k in now if saved.get(k) != now[k]}
            if changed:
                self.logger.warning(
                    f'resuming {filename} in epoch {int(saved["epoch"]) + 1} after '
                    f'{saved["samples"]} samples per process, mapped exactly onto '
                    + ', '.join(f'{k} {a} -> {b}' for k, (a, b) in changed.items()))
        self._read_cache = (filename, checkpoint)
        try:
            result = super().resume(filename, *args, **kwargs)
        finally:
            self._read_cache = None
        if saved is not None and hasattr(loop, 'set_resumed'):
            loop.set_resumed(saved)
        return result

    def _check_resume_settings(self, checkpoint: dict, filename: str) -> None:
        """Refuse a resume whose optimizer or scheduler settings differ from those the
        checkpoint was trained with: its optimizer and scheduler state would replace them
        without a word (mmengine loads ``lr``, ``gamma``... from the checkpoint)."""
        text = (checkpoint.get('meta') or {}).get('cfg')
        if not isinstance(text, str):
            return
        try:
            stored = Config.fromstring(text, file_format='.py')
        except Exception:  # noqa: BLE001 -- an unparsable stored config: nothing to compare
            return
        lines = []
        for section in RESUME_FIXED_SECTIONS:
            old = _flatten(_plain(stored.get(section)), f'{section}.')
            new = _flatten(_plain(self.cfg.get(section)), f'{section}.')
            for key in sorted(set(old) | set(new)):
                a, b = old.get(key, '<unset>'), new.get(key, '<unset>')
                if a != b:
                    lines.append(f'{key}: checkpoint {a!r}, now {b!r}')
        if lines:
            raise ValueError(
                f'cannot resume from {filename!r} with changed optimizer or scheduler '
                f'settings ({"; ".join(lines[:8])}): the checkpoint\'s optimizer and scheduler '
                'state would replace them. Resume without these --cfg-options, or start a '
                f'new run from its weights: --cfg-options load_from={filename} (no --resume).')

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=DDP_PREFIX):
        """``Runner.load_checkpoint`` through :func:`dualpose.engine.checkpoint.load_weights`:
        a mismatch of weights or of the stored model config is an error naming the file and
        the keys (``strict`` is accepted for mmengine's callers; missing or misshapen weights
        are refused either way)."""
        cache = getattr(self, '_read_cache', None)
        if cache is not None and cache[0] == filename:
            checkpoint = cache[1]
        else:
            checkpoint = read_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        load_weights(model, checkpoint, filename, revise_keys=revise_keys,
                     warn=self.logger.warning, model_cfg=self.cfg.get('model'))
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
