"""An epoch-based train loop that resumes at the exact data position, or refuses."""
import math
from typing import Optional

import torch
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

from dualpose.registry import LOOPS


_ALL = 2 ** 62   # "every sample of the epoch", clipped to the epoch's length by the loop


def _num_samples(dataloader) -> int:
    return len(dataloader.dataset)


def map_resume_position(saved: dict, current: dict) -> int:
    """The number of this rank's samples to skip in the resumed epoch.

    ``saved`` is the position a checkpoint stores (``meta['resume_position']``: ``epoch``,
    ``samples`` this rank had trained in that epoch, ``epoch_samples`` in a whole epoch,
    ``dataset_len``, ``batch_size``, ``world_size``); ``current`` the same keys of the run
    that resumes. At an epoch boundary (``samples`` 0, or all of the epoch's: the epoch's
    end-of-epoch hooks then still run) any change maps exactly.
    Part-way through an epoch the position maps exactly only when the dataset length and the
    world size are the same (the epoch's shuffled order and its split over ranks are then the
    same) and the samples already trained are a whole number of the new batches. Anything
    else is a ValueError that names what changed.
    """
    samples = int(saved['samples'])
    if samples == 0:
        return 0
    if saved.get('epoch_samples') is not None and samples >= int(saved['epoch_samples']):
        return _ALL   # written after the epoch's last batch: the rest of it is empty
    changed = [f'{k} {saved[k]} -> {current[k]}' for k in ('dataset_len', 'batch_size',
                                                          'world_size')
               if saved.get(k) is not None and saved[k] != current[k]]
    if not changed:
        return samples
    refuse = [c for c in changed if not c.startswith('batch_size')]
    if not refuse and samples % int(current['batch_size']) == 0:
        return samples
    why = ('the order of the epoch\'s samples, or their split over processes, differs'
           if refuse else f'{samples} samples are not a whole number of batches of '
           f'{current["batch_size"]}')
    raise ValueError(
        f'cannot resume part-way through epoch {int(saved["epoch"]) + 1} (after {samples} '
        f'samples per process): {", ".join(changed)} since the checkpoint was written, and '
        f'{why}. Resume with the checkpoint\'s settings, or from a checkpoint written at the '
        'end of an epoch (epoch_N.pth), which maps onto any batch size or dataset.')


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that continues a checkpoint written mid-epoch where it stopped.

    mmengine's loop restarts an interrupted epoch from its first batch, so a run resumed from
    an iteration checkpoint sees some batches twice. Here the samples of the current epoch
    that were already trained are skipped in the sampler (they are not loaded), which needs a
    :class:`~dualpose.engine.samplers.SeededSampler`.

    The position is counted in samples: every checkpoint stores ``meta['resume_position']``
    (epoch, samples this process trained in it, dataset length, batch size, world size, see
    :meth:`position`). A resume with another batch size, dataset or number of processes maps
    it exactly or refuses (:func:`map_resume_position`); an older checkpoint without it is
    range-checked against the new dataloader.

    Also refused, before anything trains: ``max_epochs`` < 1 and a dataloader with no batch
    (e.g. ``drop_last=True`` with a batch larger than the dataset). Each iteration's losses
    must be finite: a NaN or infinite loss stops training with an error naming the iteration
    and the loss, before any hook (the checkpoint hook) runs.

    Creating the dataloader's iterator draws a seed from torch's global generator; that draw
    is kept out of the global stream, so where an epoch's iterator is created (at the epoch's
    start, or after a resume) does not change the randomness the model uses.
    """

    def __init__(self, runner, dataloader, max_epochs: int, *args, **kwargs):
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, int):
            raise TypeError(f'train_cfg.max_epochs must be an integer, got {max_epochs!r}')
        if max_epochs < 1:
            raise ValueError(f'train_cfg.max_epochs must be >= 1, got {max_epochs}: the run '
                             'would train nothing')
        super().__init__(runner, dataloader, max_epochs, *args, **kwargs)
        if len(self.dataloader) == 0:
            raise ValueError(
                f'train_dataloader yields no batch: {_num_samples(self.dataloader)} samples, '
                f'batch_size={self.dataloader.batch_size}, '
                f'drop_last={getattr(self.dataloader, "drop_last", False)}; the run would '
                'train nothing (use a smaller batch_size or drop_last=False)')
        self._samples_in_epoch = 0     # this process's samples trained in the current epoch
        self.resume_position: Optional[dict] = None   # set by DualposeRunner.resume
        self._first_epoch = True

    def set_resumed(self, saved: dict) -> None:
        """Continue from the stored position ``saved`` (called after the checkpoint's
        ``epoch`` and ``iter`` are set). ``max_iters`` is recounted from it, so the last
        iteration (and its checkpoint, ``save_last``) is recognised when the dataloader's
        length changed since the checkpoint was written."""
        skip = map_resume_position(saved, self.current_position())
        per_rank = math.ceil(_num_samples(self.dataloader) / self.runner.world_size)
        skipped = math.ceil(min(skip, per_rank) / self.dataloader.batch_size)
        left = (self._max_epochs - int(saved['epoch'])) * len(self.dataloader) - \
            min(skipped, len(self.dataloader))
        self._max_iters = self._iter + max(left, 0)
        self.resume_position = saved

    def current_position(self) -> dict:
        """What :func:`map_resume_position` compares: this run's data layout."""
        return dict(dataset_len=_num_samples(self.dataloader),
                    batch_size=int(self.dataloader.batch_size),
                    world_size=int(self.runner.world_size))

    def position(self, epoch: int) -> dict:
        """The resume position for a checkpoint whose ``meta['epoch']`` is ``epoch``: a
        checkpoint written after an epoch (``epoch`` > the loop's) starts the next one at its
        first sample."""
        samples = 0 if epoch > self._epoch else self._samples_in_epoch
        per_rank = math.ceil(_num_samples(self.dataloader) / self.runner.world_size)
        epoch_samples = min(len(self.dataloader) * int(self.dataloader.batch_size), per_rank)
        return dict(epoch=int(epoch), samples=int(min(samples, epoch_samples)),
                    epoch_samples=int(epoch_samples), **self.current_position())

    def _start_of_epoch(self) -> int:
        """Batches of the current epoch to skip after a resume (0 otherwise)."""
        saved, self.resume_position = self.resume_position, None
        first, self._first_epoch = self._first_epoch, False
        if saved is not None:
            samples = map_resume_position(saved, self.current_position())
            per_rank = math.ceil(_num_samples(self.dataloader) / self.runner.world_size)
            samples = min(samples, per_rank)
            return samples
        if not first:
            return 0
        # the first epoch after resuming a checkpoint without a stored position: the old
        # count, range-checked
        done = self._iter - self._epoch * len(self.dataloader)
        if done == 0:
            return 0
        if not 0 < done <= len(self.dataloader):
            raise ValueError(
                f'cannot resume epoch {self._epoch + 1}: the checkpoint (iteration '
                f'{self._iter}, written before resume positions were stored) would skip '
                f'{done} batches of an epoch of {len(self.dataloader)}; the batch size or the '
                'dataset changed since. Resume with the checkpoint\'s settings.')
        return done * self.dataloader.batch_size

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        skip = self._start_of_epoch()
        done = skip // self.dataloader.batch_size
        if skip > 0:
            sampler = self.dataloader.sampler
            if hasattr(sampler, 'set_start'):
                sampler.set_start(skip)
                print_log(f'resuming epoch {self._epoch + 1} at batch {done} of '
                          f'{len(self.dataloader)} ({skip} samples per process trained)',
                          logger='current')
            else:
                print_log(f'{type(sampler).__name__} cannot start part-way through an epoch: '
                          f'the {done} batches already trained in epoch {self._epoch + 1} '
                          'are trained again (use SeededSampler to resume exactly)',
                          logger='current', level=30)
                done, skip = 0, 0
        self._samples_in_epoch = skip
        with torch.random.fork_rng(devices=[]):
            batches = iter(self.dataloader)
        for idx, data_batch in enumerate(batches, start=done):
            self.run_iter(idx, data_batch)
        self._samples_in_epoch = 0
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx, data_batch) -> None:
        self.runner.call_hook('before_train_iter', batch_idx=idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(data_batch,
                                               optim_wrapper=self.runner.optim_wrapper)
        check_finite_losses(outputs, self._iter + 1, self._epoch + 1)
        self._samples_in_epoch += int(self.dataloader.batch_size)
        self.runner.call_hook('after_train_iter', batch_idx=idx, data_batch=data_batch,
                              outputs=outputs)
        self._iter += 1


def check_finite_losses(outputs, iteration: int, epoch: int) -> None:
    """Raise a FloatingPointError naming the iteration and the first NaN or infinite loss of
    a ``train_step``'s log variables."""
    for name, value in (outputs or {}).items():
        v = value.detach().float() if torch.is_tensor(value) else torch.tensor(float(value))
        if not torch.isfinite(v).all():
            raise FloatingPointError(
                f'iteration {iteration} (epoch {epoch}): {name} is {v.flatten()[0].item()}; '
                'training stopped before writing a checkpoint with non-finite weights. Check '
                'the data (coordinates, confidences) and the learning rate.')
