from .streams import BaseStream, GCNStream, TransformerStream

__all__ = ['BaseStream', 'TransformerStream', 'GCNStream']
