from .data_preprocessor import LiftingDataPreprocessor

__all__ = ['LiftingDataPreprocessor']
