"""The one timer of the package: wall and process-CPU seconds of calls, with an optional device
synchronisation, for the benchmarks and the studies' cost estimates."""
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

__all__ = ['time_call', 'time_calls', 'summarize']


def time_call(fn: Callable[[], object],
              sync: Optional[Callable[[], None]] = None) -> Tuple[float, float]:
    """``(wall s, process CPU s)`` of one call of ``fn``; ``sync`` (e.g.
    ``torch.cuda.synchronize``) runs after the call, inside the timed span. The CPU time
    counts every thread of the process, so with few threads on a busy machine it is a
    steadier figure than wall time, which includes time spent descheduled."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    if sync is not None:
        sync()
    return time.perf_counter() - t0, time.process_time() - c0


def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 0,
               sync: Optional[Callable[[], None]] = None) -> List[Tuple[float, float]]:
    """``repeats`` timed calls of ``fn`` after ``warmup`` untimed ones (see :func:`time_call`)."""
    if repeats < 1:
        raise ValueError(f'repeats must be >= 1, got {repeats}')
    for _ in range(warmup):
        fn()
    if sync is not None:
        sync()
    return [time_call(fn, sync) for _ in range(repeats)]


def summarize(seconds: Sequence[float]) -> Dict[str, float]:
    """``median``, ``min`` and ``max`` of a list of times (the median of an even count is the
    mean of the middle two)."""
    if not seconds:
        raise ValueError('summarize: no times')
    return dict(median=statistics.median(seconds), min=min(seconds), max=max(seconds))
