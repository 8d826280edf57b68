from . import transforms  # noqa: F401
from .datasets import BaseClipDataset, Human36mDataset, Pose2dSequenceDataset

__all__ = ['BaseClipDataset', 'Human36mDataset', 'Pose2dSequenceDataset']
