from .h36m import Human36mDataset

__all__ = ['Human36mDataset']
