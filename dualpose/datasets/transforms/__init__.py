from .lifting_transforms import NormalizeScreen, PackLiftingInputs, RandomFlipLifting

__all__ = ['NormalizeScreen', 'RandomFlipLifting', 'PackLiftingInputs']
