from . import transforms  # noqa: F401
from .samplers import SampleIndex, SeededSampler, sample_rng
from .datasets import (BaseClipDataset, Human36mDataset, Human36mVp3dDataset,
                       MpiInf3dhpDataset, Pose2dSequenceDataset, Human36mActionDataset,
                       NTURGBDDataset)

__all__ = ['BaseClipDataset', 'Human36mDataset', 'Human36mVp3dDataset', 'MpiInf3dhpDataset',
           'Pose2dSequenceDataset', 'Human36mActionDataset', 'NTURGBDDataset',
           'SampleIndex', 'SeededSampler', 'sample_rng']
