"""Optional compiled operators. Each has a PyTorch fallback and is built only when asked for."""
from .attention import (build_error, fused_attention, fused_attention_status,
                              load_extension)

__all__ = ['fused_attention', 'fused_attention_status', 'load_extension', 'build_error']
