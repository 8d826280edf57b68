from .base import BaseClipDataset
from .h36m import Human36mDataset
from .h36m_action import Human36mActionDataset
from .h36m_vp3d import Human36mVp3dDataset
from .mpi_inf_3dhp import MpiInf3dhpDataset
from .ntu_rgbd import NTURGBDDataset
from .pose2d_sequence import Pose2dSequenceDataset

__all__ = ['BaseClipDataset', 'Human36mDataset', 'Human36mVp3dDataset', 'MpiInf3dhpDataset',
           'Pose2dSequenceDataset', 'Human36mActionDataset', 'NTURGBDDataset']
