from .dual_stream_former import DualStreamBlock, DualStreamFormer
from .mlp_lifter import FrameMLP

__all__ = ['DualStreamBlock', 'DualStreamFormer', 'FrameMLP']
