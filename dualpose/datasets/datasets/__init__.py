from .base import BaseClipDataset
from .h36m import Human36mDataset
from .pose2d_sequence import Pose2dSequenceDataset

__all__ = ['BaseClipDataset', 'Human36mDataset', 'Pose2dSequenceDataset']
