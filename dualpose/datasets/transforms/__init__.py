from .lifting_transforms import NormalizeScreen, PackLiftingInputs, RandomFlipLifting
from .action_transforms import PackActionInputs

__all__ = ['NormalizeScreen', 'RandomFlipLifting', 'PackLiftingInputs', 'PackActionInputs']
