"""Hooks that kill the training process on purpose, for the crash/resume tests. Imported by
the configs those tests write (custom_imports); not part of the package."""
import os
import signal

from mmengine.fileio.backends import local_backend
from mmengine.hooks import Hook

from dualpose.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILL this process at training iteration ``at_iter`` (1-based).

    ``during_save=False``: right after that iteration, once its checkpoint (if any) is
    written. ``during_save=True``: while that iteration's checkpoint is being written, after
    half of its bytes reached the disk.
    """
    priority = 'LOWEST'  # after CheckpointHook

    def __init__(self, at_iter: int, during_save: bool = False):
        self.at_iter = at_iter
        self.during_save = during_save

    def before_save_checkpoint(self, runner, checkpoint):
        if not self.during_save or runner.iter + 1 != self.at_iter:
            return

        def half_then_die(backend, obj, filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)

        local_backend.LocalBackend.put = half_then_die

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not self.during_save and runner.iter + 1 == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class FailBestSaveHook(Hook):
    """Raise while the best checkpoint of epoch ``at_epoch`` (or later) is being written, as a
    crash at that moment would: the previous best must still be on disk afterwards."""
    priority = 'LOWEST'

    def __init__(self, at_epoch: int = 2):
        self.at_epoch = at_epoch

    def before_save_checkpoint(self, runner, checkpoint):
        # the best checkpoint is the one saved without the optimizer state
        if 'optimizer' not in checkpoint and runner.epoch >= self.at_epoch:
            raise RuntimeError('injected failure while writing the best checkpoint')


@HOOKS.register_module()
class RecordSamplesHook(Hook):
    """Append ``[epoch, [sample indices]]`` of every training batch to ``out_file`` (JSON
    lines): what a run trained on, in order."""

    def __init__(self, out_file: str):
        self.out_file = out_file

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        import json
        idx = [int(s.metainfo['sample_idx']) for s in data_batch['data_samples']]
        with open(self.out_file, 'a') as f:
            f.write(json.dumps([runner.epoch, idx]) + '\n')
