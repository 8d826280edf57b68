"""An epoch-based train loop that resumes at the exact data position."""
import torch
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

from dualpose.registry import LOOPS


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that continues a checkpoint written mid-epoch where it stopped.

    mmengine's loop restarts an interrupted epoch from its first batch, so a run resumed from
    an iteration checkpoint sees some batches twice. Here the batches of the current epoch that
    were already trained (``iter - epoch * len(dataloader)``) are skipped in the sampler (they
    are not loaded), which needs a :class:`~dualpose.engine.samplers.SeededSampler`.

    Creating the dataloader's iterator draws a seed from torch's global generator; that draw
    is kept out of the global stream, so where an epoch's iterator is created (at the epoch's
    start, or after a resume) does not change the randomness the model uses.
    """

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self._iter - self._epoch * len(self.dataloader)
        if done > 0:
            sampler = self.dataloader.sampler
            if hasattr(sampler, 'set_start'):
                sampler.set_start(done * self.dataloader.batch_size)
                print_log(f'resuming epoch {self._epoch + 1} at batch {done} of '
                          f'{len(self.dataloader)}', logger='current')
            else:
                print_log(f'{type(sampler).__name__} cannot start part-way through an epoch: '
                          f'the {done} batches already trained in epoch {self._epoch + 1} '
                          'are trained again (use SeededSampler to resume exactly)',
                          logger='current', level=30)
                done = 0
        with torch.random.fork_rng(devices=[]):
            batches = iter(self.dataloader)
        for idx, data_batch in enumerate(batches, start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
