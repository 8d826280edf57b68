from .attention import SpatialAttention, TemporalAttention, MultiHeadSelfAttention
from .fusion import AdaptiveFusion, MeanFusion
from .graph_conv import SkeletonGraphConv, TemporalGraphConv
from .metaformer import MetaFormerBlock
from .mlp import Mlp

__all__ = ['MultiHeadSelfAttention', 'SpatialAttention', 'TemporalAttention', 'AdaptiveFusion',
           'MeanFusion', 'SkeletonGraphConv', 'TemporalGraphConv', 'MetaFormerBlock', 'Mlp']
