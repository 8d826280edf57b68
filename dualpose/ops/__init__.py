"""Optional compiled operators. Each has a PyTorch fallback and is built only when asked for:
``attn_impl='fused'`` runs :func:`fused_attention`, which picks the CUDA kernel for CUDA
tensors and the AVX-512 or AVX2 kernel (:mod:`dualpose.ops.cpu_attention`, chosen at run
time) for CPU tensors."""
from .attention import (ATTN_IMPLS, attention_math, build_error, fused_attention,
                        fused_attention_status, load_extension, resolve_attn_impl,
                        scaled_dot_product)
from .cpu_attention import cpu_build_error, cpu_isa, load_cpu_kernel, loaded_isa

__all__ = ['ATTN_IMPLS', 'attention_math', 'scaled_dot_product', 'resolve_attn_impl',
           'fused_attention', 'fused_attention_status', 'load_extension', 'build_error',
           'load_cpu_kernel', 'cpu_build_error', 'cpu_isa', 'loaded_isa']
