"""What the CPU computes natively: the instruction-set flags that decide which reduced
precision pays (bf16 matmuls need AVX512-BF16 or AMX; int8 ones are fastest with VNNI).

    from dualpose.utils.cpu_features import cpu_flags, cpu_has_native_bf16
    cpu_flags()            # {'avx2': True, 'avx512f': True, 'avx512_bf16': False, ...}
    cpu_has_native_bf16()  # True where bf16 autocast runs native kernels

One place for the question, asked by ``tools/train.py --amp``, ``tools/analysis/benchmark.py``
and ``init_model(precision='bf16')`` (:mod:`dualpose.deploy.precision`).
"""
from typing import Dict, Optional

# the flags the benchmark and the deployment docs report, in /proc/cpuinfo's spelling
CPU_FLAGS = ('avx2', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'avx_vnni', 'amx_bf16',
             'amx_int8', 'amx_tile')
NATIVE_BF16_FLAGS = ('avx512_bf16', 'amx_bf16')


def _cpuinfo_flags(path: str = '/proc/cpuinfo') -> Optional[set]:
    """The ``flags`` of the first processor in ``path``; None where it cannot be read (not
    Linux)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        return None
    return None


def cpu_flags(path: str = '/proc/cpuinfo') -> Dict[str, Optional[bool]]:
    """Each flag of :data:`CPU_FLAGS`: True / False, or None for all where the CPU's flags
    cannot be read."""
    flags = _cpuinfo_flags(path)
    return {f: (None if flags is None else f in flags) for f in CPU_FLAGS}


def describe_cpu_flags(flags: Optional[Dict[str, Optional[bool]]] = None) -> str:
    """``'avx2 avx512f -avx512_bf16 ...'``: the flags present, those absent with a ``-``;
    ``'unknown (no /proc/cpuinfo)'`` where they cannot be read."""
    flags = cpu_flags() if flags is None else flags
    if all(v is None for v in flags.values()):
        return 'unknown (no /proc/cpuinfo)'
    return ' '.join(k if v else f'-{k}' for k, v in flags.items())


def _onednn_bf16() -> bool:
    try:
        import torch
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError, ImportError):
        return False


def cpu_has_native_bf16() -> bool:
    """Whether bfloat16 matmuls run natively here: oneDNN has bf16 kernels for this CPU
    (``torch.ops.mkldnn._is_mkldnn_bf16_supported()``, which also answers True on AVX512
    cores that only emulate bf16) and, where the flags can be read, the CPU has
    AVX512-BF16 or AMX-BF16. Without the flags, oneDNN's answer alone."""
    flags = _cpuinfo_flags()
    if flags is not None and not flags & set(NATIVE_BF16_FLAGS):
        return False
    return _onednn_bf16()
