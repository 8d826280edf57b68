"""The mmengine Runner with checkpoints that survive a crash and fail loudly on a mismatch."""
import os.path as osp
import re

from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

from dualpose.registry import RUNNERS
from dualpose.utils.fileio import replace_atomic
from .checkpoint import check_state_dict_matches, find_resumable_checkpoint, is_local_path


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
                        revise_keys=[(r'^module\.', '')]):  # noqa: B006 (mmengine's default)
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if hasattr(self.model, 'module') else self.model
        state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) \
            else None
        if not isinstance(state_dict, dict):
            raise ValueError(f'checkpoint {filename!r} holds no state dict '
                             f'(found {type(checkpoint).__name__})')
        revised = dict(state_dict)
        for pattern, repl in revise_keys:
            revised = {re.sub(pattern, repl, k): v for k, v in revised.items()}
        unexpected = check_state_dict_matches(model, revised, filename)
        if unexpected:
            self.logger.warning(f'{filename}: {len(unexpected)} checkpoint keys unused by the '
                                f'model, e.g. {unexpected[:5]}')
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict,
                                               revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
