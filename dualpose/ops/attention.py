"""``softmax(q k^T / sqrt(d)) v``: the reference math and the one switch that picks how it is
computed, :func:`scaled_dot_product` (``attn_impl`` of the model's attention layers):

- ``'sdpa'`` (default): ``F.scaled_dot_product_attention`` (flash-style kernels on CPU and
  GPU; no (N, N) matrix kept for the backward);
- ``'math'``: the explicit formula, :func:`attention_math` (the readable reference);
- ``'fused'``: compiled kernels, :func:`fused_attention`: on CPU tensors the AVX-512 or AVX2
  kernel of :mod:`dualpose.ops.cpu_attention` (float32, without autograd; with autograd the explicit
  math for short sequences), on CUDA tensors the optional CUDA kernel; ``'sdpa'`` (logged
  once, with the reason) wherever neither runs.

All three agree (tests/test_models/test_layers, tests/test_ops).

``attn_impl='fused'`` in detail. CUDA tensors go to the CUDA kernel described below; CPU tensors go to the AVX-512 or AVX2
kernel of :mod:`dualpose.ops.cpu_attention` (float32, forward and backward; the widest the CPU
has, chosen at run time). Both are built on first
use; whatever neither takes runs ``F.scaled_dot_product_attention`` (on the CPU, a training
step on a short sequence runs the explicit math instead).

The CUDA kernel (``csrc/fused_attention_kernel.cu``) is compiled with
``torch.utils.cpp_extension.load`` the first time ``attn_impl='fused'`` meets a CUDA tensor
(the build is cached in torch's extension folder, ``TORCH_EXTENSIONS_DIR``), so nothing is
compiled unless asked for. It covers the short sequences of this model (J = 17 joints,
T <= a few hundred frames), head dim <= 64, float32 / float16 / bfloat16, forward only: the
backward recomputes the reference math under autograd (``FusedAttentionFunction``), which
materialises the (N, N) attention matrix for the backward only.

Whenever CUDA, the build or the inputs do not fit, :func:`fused_attention` falls back to
``F.scaled_dot_product_attention`` and says so once in the log; the first call that runs the
kernel says so too.
"""
import logging
import os.path as osp
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from .cpu_attention import (ISA_NAMES, autograd_recording, cpu_attention, cpu_build_error,
                            cpu_unsupported_reason, load_cpu_kernel, loaded_isa)

MAX_HEAD_DIM = 64
# where the CPU kernel cannot run and autograd records, the explicit math beats SDPA up to
# about 100 keys (float32 forward + backward, head dim 16, 2 threads: 8.6 vs 27.1 ms at 17,
# 16.7 vs 23.3 at 64, 33.4 vs 29.7 at 128); 64 keeps a margin
MATH_MAX_KEYS = 64
SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_CSRC = osp.join(osp.dirname(osp.abspath(__file__)), 'csrc')
_SOURCES = ('fused_attention.cpp', 'fused_attention_kernel.cu')


ATTN_IMPLS = ('sdpa', 'math', 'fused')


def attention_math(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   dropout_p: float = 0.0, training: bool = False,
                   attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The reference: ``softmax(q k^T / sqrt(d)) v`` for (..., N, D) tensors; where the bool
    ``attn_mask`` (N_q, N_k) is False a key is not attended to (as in SDPA)."""
    attn = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    if attn_mask is not None:
        attn = attn.masked_fill(~attn_mask, float('-inf'))
    attn = F.dropout(attn.softmax(dim=-1), p=dropout_p, training=training)
    return attn @ v


def scaled_dot_product(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, impl: str = 'sdpa',
                       dropout_p: float = 0.0, training: bool = False,
                       attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d)) v`` computed by ``impl`` (see the module docstring).

    ``attn_mask``: optional bool (N_q, N_k), True where a query may attend to a key (causal
    models). The compiled kernels take no mask: with one, ``'fused'`` runs SDPA."""
    drop = dropout_p if training else 0.0
    if impl == 'sdpa' or (impl == 'fused' and attn_mask is not None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=drop)
    if impl == 'math':
        return attention_math(q, k, v, drop, training, attn_mask)
    if impl == 'fused':
        return fused_attention(q, k, v, dropout_p=drop)
    raise ValueError(f'attn_impl must be one of {ATTN_IMPLS}, got {impl!r}')


def resolve_attn_impl(attn_impl: Optional[str], use_sdpa: Optional[bool]) -> str:
    """``attn_impl`` wins; the older boolean ``use_sdpa`` maps True -> 'sdpa', False -> 'math'."""
    if attn_impl is None:
        attn_impl = 'math' if use_sdpa is False else 'sdpa'
    elif use_sdpa is not None and (attn_impl == 'math') == bool(use_sdpa):
        raise ValueError(f'use_sdpa={use_sdpa} contradicts attn_impl={attn_impl!r}; '
                         'set attn_impl only')
    if attn_impl not in ATTN_IMPLS:
        raise ValueError(f'attn_impl must be one of {ATTN_IMPLS}, got {attn_impl!r}')
    return attn_impl


class _BuildState:
    """The result of the one build attempt of a process."""
    tried = False
    module = None
    error: Optional[str] = None


_logged = set()


def _log_once(msg: str, level: int = logging.INFO) -> None:
    if msg not in _logged:
        _logged.add(msg)
        print_log(msg, logger='current', level=level)


def _compile_extension():
    """JIT-compile the extension (minutes the first time; cached afterwards)."""
    from torch.utils.cpp_extension import load
    return load(name='dualpose_fused_attention',
                sources=[osp.join(_CSRC, s) for s in _SOURCES],
                extra_cuda_cflags=['-O3', '--use_fast_math'],
                verbose=False)


def load_extension():
    """Return the compiled extension, building it on the first call, or None when CUDA or
    the build is missing (:func:`build_error` then says why). Tried once per process."""
    if not _BuildState.tried:
        _BuildState.tried = True
        if not torch.cuda.is_available():
            _BuildState.error = 'CUDA is not available'
        else:
            try:
                _BuildState.module = _compile_extension()
            except Exception as err:  # no nvcc, compiler error, ...: fall back, say why
                first_line = str(err).strip().splitlines()[0] if str(err).strip() else ''
                _BuildState.error = f'the build failed ({type(err).__name__}: {first_line})'
    return _BuildState.module


def build_error() -> Optional[str]:
    """Why the extension is unavailable (None when it loaded or was never tried)."""
    return _BuildState.error


def unsupported_reason(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       dropout_p: float = 0.0) -> Optional[str]:
    """Why the kernel cannot take these inputs, or None when it can. Checks the inputs
    before the build, so CPU tensors never trigger a compile."""
    if not (q.is_cuda and k.is_cuda and v.is_cuda):
        return f'inputs are on {q.device.type}, the kernel needs CUDA tensors'
    if q.shape != k.shape or q.shape != v.shape:
        return f'q, k, v shapes differ ({tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)})'
    if q.shape[-1] > MAX_HEAD_DIM:
        return f'head dim {q.shape[-1]} > {MAX_HEAD_DIM}'
    if q.dtype not in SUPPORTED_DTYPES or k.dtype != q.dtype or v.dtype != q.dtype:
        return f'dtype {q.dtype} is not one of float32, float16, bfloat16'
    if dropout_p > 0:
        return 'attention dropout is not implemented in the kernel'
    if load_extension() is None:
        return build_error()
    return None


class FusedAttentionFunction(torch.autograd.Function):
    """Forward: the CUDA kernel. Backward: recompute the reference math in float32 under
    autograd and differentiate it (no gradient kernel is written)."""

    @staticmethod
    def forward(ctx, q, k, v):
        ctx.save_for_backward(q, k, v)
        shape = q.shape
        n, d = shape[-2], shape[-1]
        out = load_extension().forward(q.reshape(-1, n, d), k.reshape(-1, n, d),
                                       v.reshape(-1, n, d), d ** -0.5)
        return out.view(shape)

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v = ctx.saved_tensors
        with torch.enable_grad():
            inputs = [t.detach().float().requires_grad_() for t in (q, k, v)]
            out = attention_math(*inputs)
            grads = torch.autograd.grad(out, inputs, grad_out.float())
        return tuple(g.to(t.dtype) for g, t in zip(grads, (q, k, v)))


def fused_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    dropout_p: float = 0.0) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d)) v`` for (..., N, D) tensors with the fused kernel, or
    ``F.scaled_dot_product_attention`` when the kernel cannot run (logged once per reason)."""
    if q.device.type == 'cpu':
        return _cpu_fused_attention(q, k, v, dropout_p)
    reason = unsupported_reason(q, k, v, dropout_p)
    if reason is not None:
        _log_once(f"attention: attn_impl='fused' falls back to PyTorch "
                  f'scaled_dot_product_attention: {reason}', logging.WARNING)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    _log_once("attention: attn_impl='fused' runs the CUDA kernel dualpose_fused_attention "
              '(forward; the backward recomputes the PyTorch reference)')
    return FusedAttentionFunction.apply(q, k, v)


def _cpu_fused_attention(q, k, v, dropout_p):
    """The CPU route of :func:`fused_attention`: the CPU kernel (forward, and backward when
    autograd records) where it can run. Elsewhere SDPA, except in float32 steps that
    autograd records on sequences of up to ``MATH_MAX_KEYS`` keys, where the explicit math
    is faster (for the 17 joints its forward + backward took a third of SDPA's)."""
    reason = cpu_unsupported_reason(q, k, v, dropout_p)
    if reason is None:
        _log_once("attention: attn_impl='fused' runs the CPU kernel dualpose_cpu_attention "
                  f'({ISA_NAMES[loaded_isa()]}, float32; forward, and backward when autograd '
                  'records)')
        return cpu_attention(q, k, v)
    level = logging.WARNING if reason == cpu_build_error() else logging.INFO
    if autograd_recording((q, k, v)) and q.dtype == torch.float32 and k.shape[-2] <= MATH_MAX_KEYS:
        _log_once(f"attention: attn_impl='fused' runs the explicit math on the CPU (a "
                  f'training step on at most {MATH_MAX_KEYS} keys) when {reason}', level)
        return attention_math(q, k, v, dropout_p, training=dropout_p > 0)
    _log_once(f"attention: attn_impl='fused' runs PyTorch scaled_dot_product_attention "
              f'on the CPU when {reason}', level)
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)


def tiled_online_softmax_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                   tile: int = 32) -> torch.Tensor:
    """The kernel's algorithm in PyTorch, for reading and for testing it without a GPU:
    keys in tiles of ``tile``, a running row max ``m`` and sum ``l``, earlier partial sums
    rescaled by ``exp(m_old - m_new)`` whenever the max grows. (..., N, D) -> (..., N, D)."""
    q = q.float() * q.shape[-1] ** -0.5
    k, v = k.float(), v.float()
    n = k.shape[-2]
    row_max = torch.full(q.shape[:-1], float('-inf'), dtype=torch.float32, device=q.device)
    row_sum = torch.zeros_like(row_max)
    acc = torch.zeros_like(q)
    for start in range(0, n, tile):
        scores = q @ k[..., start:start + tile, :].transpose(-1, -2)
        new_max = torch.maximum(row_max, scores.amax(dim=-1))
        p = (scores - new_max.unsqueeze(-1)).exp()
        correction = (row_max - new_max).exp()
        row_sum = row_sum * correction + p.sum(dim=-1)
        acc = acc * correction.unsqueeze(-1) + p @ v[..., start:start + tile, :]
        row_max = new_max
    return acc / row_sum.unsqueeze(-1)


def fused_attention_status(device: Optional[torch.device] = None) -> Tuple[bool, str]:
    """(usable, message) for ``attn_impl='fused'`` on ``device`` (default: CUDA if present).
    Builds the kernel for that device if it is not built yet."""
    device = torch.device(device if device is not None else
                          ('cuda' if torch.cuda.is_available() else 'cpu'))
    if device.type == 'cpu':
        if load_cpu_kernel() is None:
            return False, f'{cpu_build_error()}: PyTorch SDPA runs instead'
        return True, (f'the CPU kernel dualpose_cpu_attention runs ({ISA_NAMES[loaded_isa()]}, '
                      'float32, forward and backward; SDPA for what it does not take)')
    if device.type != 'cuda':
        return False, f'device {device} has no kernel: PyTorch SDPA runs instead'
    if load_extension() is None:
        return False, f'{build_error()}: PyTorch SDPA runs instead'
    return True, 'the CUDA kernel dualpose_fused_attention runs'
