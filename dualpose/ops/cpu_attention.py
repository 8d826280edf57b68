"""The CPU half of ``attn_impl='fused'``: an attention kernel for float32, AVX-512 or AVX2.

PyTorch's CPU ``scaled_dot_product_attention`` runs this model's small heads (head dim 16,
17 joints or a few hundred frames) at a fraction of the machine's speed: its flash kernel
is blocked for long sequences and wide heads. ``csrc/cpu_attention.cpp`` is written for
these shapes (see its header comment). It is plain C++ behind a C ABI, compiled with the
system compiler (``$CXX``, else ``c++``) in about two seconds the first time it is needed,
cached under ``$DUALPOSE_EXTENSIONS_DIR`` (default ``~/.cache/dualpose/extensions``) by a
hash of the source and flags, and loaded with :mod:`ctypes`.

The one source compiles for two instruction sets: ``avx512`` (16-lane vectors, AVX-512 F,
BW, VL and DQ) and ``avx2`` (8 lanes, AVX2 + FMA). :func:`cpu_isa` picks, at run time, the
widest the CPU has (torch's own detection, ``torch.backends.cpu.get_cpu_capability()``);
``DUALPOSE_CPU_ISA=avx2`` forces the narrower build on an AVX-512 CPU (to compare them).

Without autograd it runs the forward alone; when autograd records,
:class:`CpuAttentionFunction` keeps each row's log-sum-exp and runs the kernel's backward
(head dims 8 to 64). :func:`cpu_unsupported_reason` names every case it does not take (no
AVX2, no compiler, head dims other than 4/8/16/32/64, head dim 4 in training, other dtypes,
dropout); :func:`dualpose.ops.attention.fused_attention` then runs SDPA, or the explicit
math for a training step on a short sequence.
"""
import ctypes
import hashlib
import os
import os.path as osp
import shutil
import subprocess
from typing import Optional, Tuple

import torch

from dualpose.utils.fileio import atomic_path

_SOURCE = osp.join(osp.dirname(osp.abspath(__file__)), 'csrc', 'cpu_attention.cpp')
CXX_FLAGS = ('-O3', '-std=c++17', '-shared', '-fPIC', '-fopenmp')
# the instruction sets the source compiles for, widest first, with their flags and the value
# the library's dualpose_cpu_attention_isa() returns
ISA_FLAGS = {
    'avx512': ('-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq', '-mavx2', '-mfma'),
    'avx2': ('-mavx2', '-mfma'),
}
_ISA_CODES = {'avx512': 512, 'avx2': 2}
ISA_NAMES = {'avx512': 'AVX-512', 'avx2': 'AVX2'}
# torch's CPU capability names -> the instruction sets that capability implies
_CAPABILITY_ISAS = {'AVX512': ('avx512', 'avx2'), 'AVX2': ('avx2', )}
ISA_ENV = 'DUALPOSE_CPU_ISA'
HEAD_DIMS = (4, 8, 16, 32, 64)
BACKWARD_HEAD_DIMS = (8, 16, 32, 64)
# bfloat16 inputs (bf16 autocast) are computed in float32: converted on the way in and the
# result on the way out, which took 3.2 ms against SDPA's 6.7 in bf16 on the B model's
# temporal shape (0.8 against 4.0 on the spatial one), an AVX-512-BF16 CPU, 2 threads
KERNEL_DTYPES = (torch.float32, torch.bfloat16)
NO_BACKWARD_REASON = ('autograd is recording and the CPU kernel has no backward for this head '
                      f'dim (it has for {BACKWARD_HEAD_DIMS})')


class _CpuBuild:
    """The one build attempt of a process (of the instruction set :func:`cpu_isa` chose)."""
    tried = False
    lib = None
    isa: Optional[str] = None
    error: Optional[str] = None


def supported_isas() -> Tuple[str, ...]:
    """The kernel's instruction sets this CPU runs, widest first (empty without AVX2)."""
    return _CAPABILITY_ISAS.get(torch.backends.cpu.get_cpu_capability(), ())


def cpu_isa() -> str:
    """The instruction set the kernel is built for here: ``$DUALPOSE_CPU_ISA`` when set,
    else the widest the CPU has. Raises RuntimeError for a CPU without AVX2, or an override
    that is unknown or that the CPU lacks."""
    have = supported_isas()
    forced = os.environ.get(ISA_ENV)
    if forced:
        if forced not in ISA_FLAGS:
            raise RuntimeError(f'{ISA_ENV}={forced!r} is not one of {tuple(ISA_FLAGS)}')
        if forced not in have:
            raise RuntimeError(f'{ISA_ENV}={forced} but the CPU has '
                               f'{", ".join(have) or "neither AVX2 nor AVX-512"} '
                               f'(capability {torch.backends.cpu.get_cpu_capability()})')
        return forced
    if not have:
        raise RuntimeError('the CPU has no AVX2 '
                           f'(capability {torch.backends.cpu.get_cpu_capability()})')
    return have[0]


def extensions_dir() -> str:
    return os.environ.get('DUALPOSE_EXTENSIONS_DIR',
                          osp.join(osp.expanduser('~'), '.cache', 'dualpose', 'extensions'))


def _compiler() -> Optional[str]:
    return shutil.which(os.environ.get('CXX', 'c++'))


def _flags(isa: str) -> Tuple[str, ...]:
    return CXX_FLAGS + ISA_FLAGS[isa]


def library_path(cxx: str, isa: str = 'avx2') -> str:
    """Where the build for this source, compiler and instruction set lives."""
    digest = hashlib.sha1()
    with open(_SOURCE, 'rb') as f:
        digest.update(f.read())
    digest.update(' '.join((cxx,) + _flags(isa)).encode())
    return osp.join(extensions_dir(),
                    f'dualpose_cpu_attention_{isa}_{digest.hexdigest()[:12]}.so')


def _compile(cxx: str, target: str, isa: str = 'avx2') -> None:
    """Compile into a temporary file beside ``target``, then rename: a crash mid-build never
    leaves a half-written library where the loader would find it."""
    with atomic_path(target, suffix='.so') as tmp:
        proc = subprocess.run([cxx, *_flags(isa), _SOURCE, '-o', tmp],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            raise RuntimeError(f'{cxx} exited with {proc.returncode}: '
                               f'{lines[0] if lines else "no output"}')


def _load(path: str, isa: str):
    lib = ctypes.CDLL(path)  # CDLL releases the GIL during calls
    lib.dualpose_cpu_attention_isa.restype = ctypes.c_int
    if lib.dualpose_cpu_attention_isa() != _ISA_CODES[isa]:
        raise RuntimeError(f'{path} is not the {isa} build '
                           f'(it reports {lib.dualpose_cpu_attention_isa()})')
    i64, ptr = ctypes.c_int64, ctypes.c_void_p
    lib.dualpose_cpu_attention_f32.argtypes = [ptr] * 5 + [i64] * 5 + [
        ptr, ctypes.c_float, ctypes.c_int]
    lib.dualpose_cpu_attention_backward_f32.argtypes = [ptr] * 9 + [i64] * 5 + [
        ptr, ctypes.c_float, ctypes.c_int]
    for fn in (lib.dualpose_cpu_attention_f32, lib.dualpose_cpu_attention_backward_f32):
        fn.restype = ctypes.c_int
    return lib


def build_cpu_kernel(isa: str):
    """The library for one instruction set, compiled unless its cached build exists, and
    loaded. Raises RuntimeError (or OSError) saying why it cannot be."""
    if isa not in supported_isas():
        raise RuntimeError(f'the CPU cannot run the {isa} build (capability '
                           f'{torch.backends.cpu.get_cpu_capability()})')
    cxx = _compiler()
    if cxx is None:
        raise RuntimeError(f"no C++ compiler: {os.environ.get('CXX', 'c++')} "
                           'is not on PATH (set CXX)')
    path = library_path(cxx, isa)
    if not osp.exists(path):
        _compile(cxx, path, isa)
    return _load(path, isa)


def load_cpu_kernel():
    """The loaded library of :func:`cpu_isa`'s instruction set, building it on the first
    call; None when the CPU lacks AVX2 or the build fails (:func:`cpu_build_error` says
    why). Tried once per process."""
    if not _CpuBuild.tried:
        _CpuBuild.tried = True
        try:
            _CpuBuild.isa = cpu_isa()
            _CpuBuild.lib = build_cpu_kernel(_CpuBuild.isa)
        except (RuntimeError, OSError) as err:
            _CpuBuild.error = f'the CPU kernel is unavailable ({err})'
    return _CpuBuild.lib


def loaded_isa() -> Optional[str]:
    """The instruction set of the loaded kernel (None before a successful load)."""
    return _CpuBuild.isa if _CpuBuild.lib is not None else None


def cpu_build_error() -> Optional[str]:
    return _CpuBuild.error


def cpu_unsupported_reason(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                           dropout_p: float = 0.0) -> Optional[str]:
    """Why the CPU kernel cannot take these inputs, or None when it can. The cheap checks
    come first, so inputs it cannot take never trigger a build."""
    tensors = (q, k, v)
    if any(t.device.type != 'cpu' for t in tensors):
        return f'inputs are on {q.device.type}'
    if any(t.dtype not in KERNEL_DTYPES for t in tensors) or len({t.dtype for t in tensors}) > 1:
        return (f'dtype {q.dtype}: the CPU kernel takes float32 or bfloat16 '
                f'(got {", ".join(str(t.dtype) for t in tensors)})')
    if q.dim() not in (3, 4) or k.dim() != q.dim() or v.dim() != q.dim():
        return f'rank {q.dim()}: the CPU kernel takes (B, N, D) or (B, H, N, D)'
    if k.shape != v.shape or q.shape[:-2] != k.shape[:-2] or q.shape[-1] != k.shape[-1]:
        return (f'q, k, v shapes do not fit ({tuple(q.shape)}, {tuple(k.shape)}, '
                f'{tuple(v.shape)})')
    if q.shape[-1] not in HEAD_DIMS:
        return f'head dim {q.shape[-1]} is not one of {HEAD_DIMS}'
    if autograd_recording(tensors) and q.shape[-1] not in BACKWARD_HEAD_DIMS:
        return NO_BACKWARD_REASON
    if q.numel() == 0 or k.numel() == 0:
        return 'empty inputs'
    if dropout_p > 0:
        return 'attention dropout is not implemented in the kernel'
    if load_cpu_kernel() is None:
        return cpu_build_error()
    return None


def autograd_recording(tensors) -> bool:
    """Whether autograd records an op on these tensors."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _strides(*tensors):
    """The (batch, head, token) strides of each tensor, flattened for the C side."""
    values = [st for t in tensors for st in t.stride()[:3]]
    return (ctypes.c_int64 * len(values))(*values)


def _check(status: int, fn: str, q: torch.Tensor, k: torch.Tensor) -> None:
    if status != 0:
        raise RuntimeError(f'{fn} returned {status} for q {tuple(q.shape)}, k {tuple(k.shape)}')


def _token_major(b: int, h: int, n: int, d: int) -> torch.Tensor:
    """An empty (B, H, N, D) tensor in (B, N, H, D) memory: merging its heads is a view."""
    return torch.empty(b, n, h, d).transpose(1, 2)


def _forward(q, k, v, with_lse: bool):
    b, h, lq, d = q.shape
    out = _token_major(b, h, lq, d)
    lse = torch.empty(b, h, lq) if with_lse else None
    with torch.profiler.record_function('dualpose::cpu_attention'):  # named in profiles
        status = _CpuBuild.lib.dualpose_cpu_attention_f32(
            q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr(),
            None if lse is None else lse.data_ptr(), b, h, lq, k.shape[2], d,
            _strides(q, k, v, out), d ** -0.5, torch.get_num_threads())
    _check(status, 'dualpose_cpu_attention_f32', q, k)
    return out, lse


class CpuAttentionFunction(torch.autograd.Function):
    """The kernel's forward, which also keeps each row's log-sum-exp (B * H * Lq floats),
    and its backward: p recomputed from q, k and that sum, then dv = p^T go,
    ds = p * (go v^T - rowsum(go * out)), dq = scale ds k, dk = scale ds^T q, with no
    (Lq, Lk) matrix held between the two passes."""

    @staticmethod
    def forward(ctx, q, k, v):
        out, lse = _forward(q, k, v, with_lse=True)
        ctx.save_for_backward(q, k, v, out, lse)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        q, k, v, out, lse = ctx.saved_tensors
        go = grad_out if grad_out.stride(-1) == 1 else grad_out.contiguous()
        b, h, lq, d = q.shape
        lk = k.shape[2]
        gq, gk, gv = _token_major(b, h, lq, d), _token_major(b, h, lk, d), \
            _token_major(b, h, lk, d)
        with torch.profiler.record_function('dualpose::cpu_attention_backward'):
            status = _CpuBuild.lib.dualpose_cpu_attention_backward_f32(
                q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr(), go.data_ptr(),
                lse.data_ptr(), gq.data_ptr(), gk.data_ptr(), gv.data_ptr(), b, h, lq, lk, d,
                _strides(q, k, v, out, go, gq, gk, gv), d ** -0.5, torch.get_num_threads())
        _check(status, 'dualpose_cpu_attention_backward_f32', q, k)
        return gq, gk, gv


def cpu_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``softmax(q k^T / sqrt(D)) v`` with the CPU kernel; call
    :func:`cpu_unsupported_reason` first. q: (B, [H,] Lq, D), k and v: (B, [H,] Lk, D).
    When autograd records, the backward is the kernel's too (:class:`CpuAttentionFunction`).

    The result has q's shape and dtype and lives in (B, Lq, H, D) memory, so the model's
    ``out.transpose(1, 2).reshape(B, Lq, H * D)`` is a view. bfloat16 inputs are computed in
    float32 (autograd sees the conversions)."""
    dtype = q.dtype
    if dtype != torch.float32:
        q, k, v = q.float(), k.float(), v.float()
    squeeze = q.dim() == 3
    if squeeze:
        q, k, v = q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1)
    # the kernel reads each token's D values contiguously
    q, k, v = (t if t.stride(-1) == 1 else t.contiguous() for t in (q, k, v))
    if autograd_recording((q, k, v)):
        out = CpuAttentionFunction.apply(q, k, v)
    else:
        out, _ = _forward(q, k, v, with_lse=False)
    out = out.squeeze(1) if squeeze else out
    return out if dtype == torch.float32 else out.to(dtype)  # keeps the (B, Lq, H, D) memory
