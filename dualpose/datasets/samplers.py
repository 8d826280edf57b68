"""A sampler whose augmentation randomness is a function of (seed, epoch, sample index).

Why: with the usual per-worker random state, a sample's random flip depends on which worker
loads it, how many samples that worker loaded before, and whether workers persist between
epochs. A resumed run, a run with another ``num_workers`` or another number of processes then
draws different augmentations. Here each index the sampler yields carries the seed and epoch,
and the dataset draws that sample's augmentation from its own generator
(:func:`sample_rng`), so none of those choices changes the data a model sees.
"""
from typing import Iterator, Optional

import numpy as np
from mmengine.dataset import DefaultSampler

from dualpose.registry import DATA_SAMPLERS


class SampleIndex(int):
    """An ``int`` (the dataset index) that also carries ``seed`` and ``epoch``.

    Datasets that do not know about it use it as the plain index it is.
    """

    def __new__(cls, index: int, seed: int, epoch: int):
        obj = super().__new__(cls, index)
        obj.seed = int(seed)
        obj.epoch = int(epoch)
        return obj

    def __reduce__(self):  # picklable for DataLoader workers
        return SampleIndex, (int(self), self.seed, self.epoch)


def sample_rng(index) -> Optional[np.random.Generator]:
    """The augmentation generator of one sample: seeded by (seed, epoch, index) when the index
    is a :class:`SampleIndex`, else None (the caller then uses the global numpy state)."""
    if not isinstance(index, SampleIndex):
        return None
    return np.random.default_rng([index.seed & 0xFFFFFFFF, index.epoch, int(index)])


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """``DefaultSampler`` (same shuffling, rank split and padding) that yields
    :class:`SampleIndex` items and can start part-way through an epoch.

    ``set_start(n)`` makes the next iteration skip the first ``n`` indices of this rank: the
    train loop uses it to resume from a checkpoint written mid-epoch, without loading the
    skipped samples.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._start = 0

    def set_start(self, n: int) -> None:
        if n < 0:
            raise ValueError(f'SeededSampler.set_start: n must be >= 0, got {n}')
        self._start = int(n)

    def __iter__(self) -> Iterator[SampleIndex]:
        start, self._start = self._start, 0  # applies to this iteration only
        indices = list(super().__iter__())
        return iter([SampleIndex(i, self.seed, self.epoch) for i in indices[start:]])
