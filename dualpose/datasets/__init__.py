from . import transforms  # noqa: F401
from .datasets import Human36mDataset

__all__ = ['Human36mDataset']
