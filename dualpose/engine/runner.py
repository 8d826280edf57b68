"""The mmengine Runner with checkpoints that survive a crash and fail loudly on a mismatch."""
import os.path as osp

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from dualpose.registry import RUNNERS
from dualpose.utils.fileio import replace_atomic
from .checkpoint import (DDP_PREFIX, find_resumable_checkpoint, is_local_path, load_weights,
                         read_checkpoint)


@RUNNERS.register_module()
class DualposeRunner(Runner):
    """``Runner`` with three changes, selected by ``runner_type = 'DualposeRunner'`` (set in
    ``configs/_base_/default_runtime.py``):

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
