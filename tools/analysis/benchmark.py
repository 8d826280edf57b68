"""Inference and training-step throughput, peak memory and model FLOP utilisation.

    .venv/bin/python tools/analysis/benchmark.py CONFIG [--batch-size 1] [--seq-len T]
        [--modes infer train] [--precision fp32 bf16] [--paths all] [--threads 2]
        [--device cpu|cuda]
        [--warmup 2] [--repeats 5] [--compile] [--attn-impl sdpa|math|fused]
        [--compare-attn A B] [--profile 15] [--json results.json] [--cfg-options k=v ...]

Each (mode, precision) runs in a fresh process, so its peak resident memory (CPU) or peak
allocated memory (CUDA) is its own. Times are per iteration after ``--warmup`` iterations:
median, min and max of ``--repeats``. ``infer`` is one forward pass (``mode='tensor'``,
no grad); ``train`` is forward, MPJPE loss, backward and an AdamW step. The machine's GEMM
peak (square matmuls, same threads and precision) is measured in the same run; utilisation
(MFU) = model FLOPs per second / that peak, with model FLOPs = 2 x the every-matmul MAC count
of tools/analysis/get_flops.py (x 3 for a training step, the usual forward + 2 x backward
approximation).

``stream`` (a causal config, e.g. ``dualpose-b-causal_h36m-243f.py``) is the live per-frame
pass: one new frame of ``--batch-size`` tracks through ``backbone.step`` and the head, after
the caches were filled with ``T`` frames (``--seq-len``, default the config's window); its
rows give the p50 and p99 per frame, to read against an ``infer`` row of the same T, the cost
of recomputing the whole window for every new frame.

``--paths`` times the inference paths of docs/deployment.md in the ``infer`` mode, each in
its own process, through the model's deployment backend (``dualpose.deploy``, as the inference
API runs them): ``fp32-sdpa``, ``fp32-fused`` (the AVX2 attention kernel), ``bf16`` (autocast;
fp32 where the CPU has no native bf16, said in the ``run as`` column), ``int8`` (torch
dynamic quantisation), ``ort-fp32`` and ``ort-int8`` (the whole lifter exported to ONNX and
run by ONNX Runtime); ``all`` is every one. The header and the JSON name the CPU's flags
(avx2, avx512f, avx512_bf16, avx512_vnni, amx), which decide what bf16 and int8 gain.

``--compare-attn sdpa fused`` times two attention implementations on the same model in one
process, alternating between iterations, so that a speed-up smaller than the machine's own
drift (this VM's GEMM rate moves by tens of percent within minutes) can still be read.
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from dualpose.apis.complexity import (build_model, count_macs,  # noqa: E402
                                      default_seq_len, input_shape)
from dualpose.utils.config import read_config  # noqa: E402
from dualpose.utils.cpu_features import (cpu_flags, cpu_has_native_bf16,  # noqa: E402
                                         describe_cpu_flags)
from dualpose.utils.cpu_malloc import keep_freed_memory_mapped  # noqa: E402
from dualpose.utils.table import format_table  # noqa: E402
from dualpose.utils.timer import summarize, time_call, time_calls  # noqa: E402

PRECISIONS = {'fp32': torch.float32, 'bf16': torch.bfloat16}
# the inference paths of --paths: (backend, precision, attention implementation or None for
# the config's / --attn-impl's)
PATHS = {
    'fp32-sdpa': ('torch', 'fp32', 'sdpa'),
    'fp32-fused': ('torch', 'fp32', 'fused'),
    'fp32-onednn': ('onednn', 'fp32', 'fused'),
    'bf16': ('torch', 'bf16', None),
    'int8': ('torch', 'int8', 'fused'),   # (its copy runs the kernel: inference_copy)
    'ort-fp32': ('onnxruntime', 'fp32', None),
    'ort-int8': ('onnxruntime', 'int8', None),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Benchmark a lifting model')
    p.add_argument('config', help='config file path')
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--seq-len', type=int, default=None, help="T (default: the config's)")
    p.add_argument('--modes', nargs='+', choices=['infer', 'train', 'stream'],
                   default=['infer', 'train'],
                   help='infer: a forward pass over T frames; train: a training step; stream: '
                        'the per-frame pass of a causal model (see above)')
    p.add_argument('--stream-backend', choices=['torch', 'onnxruntime'], default='torch',
                   help='stream mode: the eager per-frame pass (torch, the reference) or its '
                        'ONNX export run by ONNX Runtime (dualpose.apis.stream)')
    p.add_argument('--precision', nargs='+', choices=list(PRECISIONS), default=['fp32'],
                   help='fp32, and/or bf16 autocast')
    p.add_argument('--paths', nargs='+', choices=list(PATHS) + ['all'], default=None,
                   help='infer mode: time these inference paths instead of --precision '
                        '(all: every one; see above)')
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (default: torch\'s default)')
    p.add_argument('--device', default='cpu', help='cpu or cuda[:i]')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--compile', action='store_true',
                   help='torch.compile the model (also on when the config sets compile)')
    attn = p.add_mutually_exclusive_group()
    attn.add_argument('--attn-impl', choices=['sdpa', 'math', 'fused'],
                      help='override the attention implementation of every attention layer')
    attn.add_argument('--compare-attn', nargs=2, choices=['sdpa', 'math', 'fused'],
                      metavar=('A', 'B'),
                      help='time two attention implementations on one model, alternating '
                           'between iterations (A B, B A, ...), and report the speed-up of B '
                           'over A; --repeats counts pairs')
    p.add_argument('--profile', type=int, default=0, metavar='N',
                   help='profile one extra iteration; keep the N ops with most self time')
    p.add_argument('--no-malloc-tuning', action='store_true',
                   help='leave glibc malloc as it is (default on CPU: keep freed memory '
                        'mapped, dualpose.utils.cpu_malloc)')
    p.add_argument('--gemm-size', type=int, default=None,
                   help='side of the square GEMMs that measure the peak (cpu 2048, cuda 8192)')
    p.add_argument('--no-isolate', action='store_true',
                   help='run every case in this process (peak memory is then cumulative)')
    p.add_argument('--json', help='write the results to this json file')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings, e.g. model.backbone.arch=xs')
    p.add_argument('--worker-out', help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ------------------------------------------------------------------------------ helpers
def _sync(device: torch.device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _autocast(device: torch.device, precision: str):
    if precision == 'fp32':
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=PRECISIONS[precision])


def _rss_now_bytes() -> int:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _peak_rss_bytes()


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024  # Linux reports KiB


def measure_gemm_peak(device: torch.device, precision: str = 'fp32', size: int = None,
                      repeats: int = 5) -> float:
    """Best FLOP/s of square matrix products in ``precision`` on ``device``, through
    ``F.linear`` (the op of the model's linear layers, ``x @ w.T``), over sides 256, 512, ...
    up to ``size`` (cpu 2048, cuda 8192). The best side depends on the machine: on a CPU
    the products that fit the caches are often the fastest (on the project's VM 256 beat 2048
    by a third), so the peak is the best of all sides, not the largest side's. The doubling
    stops early once one product takes over 1/8 s (a slow precision such as bf16 on a CPU
    without native bf16)."""
    size = size or (8192 if device.type == 'cuda' else 2048)
    dtype = PRECISIONS[precision]

    def timed(n, times):
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)
        F.linear(a, b)
        return summarize([w for w, _ in time_calls(lambda: F.linear(a, b), times,
                                                   sync=lambda: _sync(device))])['min']

    n, best = min(256, size), 0.0
    while True:
        secs = timed(n, repeats)
        best = max(best, 2 * n ** 3 / secs)
        if n >= size or secs > 0.125:
            return best
        n *= 2


def _load_cfg(args):
    return read_config(args.config, args.cfg_options)


def _prepare_model(cfg, args, device, mode, attn_impl=None):
    from dualpose.models.layers.attention import MultiHeadSelfAttention
    model = build_model(cfg).to(device)
    attn_impl = attn_impl or args.attn_impl
    if attn_impl:
        for m in model.modules():
            if isinstance(m, MultiHeadSelfAttention):
                m.attn_impl = attn_impl
    model.train(mode == 'train')
    if mode == 'stream' and not getattr(model.backbone, 'causal', False):
        raise ValueError(f'--modes stream needs a causal config (backbone causal=True), e.g. '
                         f'configs/dualpose/h36m/dualpose-b-causal_h36m-243f.py; '
                         f'{args.config} is not causal')
    compile_cfg = cfg.get('compile') or args.compile
    fn = model
    if compile_cfg:
        kwargs = compile_cfg if isinstance(compile_cfg, dict) else {}
        fn = torch.compile(model, **kwargs)
    return model, fn, bool(compile_cfg)


def _top_ops(prof, device, n):
    use_cuda = device.type == 'cuda'
    key = 'self_cuda_time_total' if use_cuda else 'self_cpu_time_total'
    events = prof.key_averages()
    total = sum(getattr(e, key) for e in events) or 1
    rows = sorted(events, key=lambda e: -getattr(e, key))[:n]
    return [dict(op=e.key, self_ms=getattr(e, key) / 1e3, calls=e.count,
                 percent=100.0 * getattr(e, key) / total) for e in rows]


# ------------------------------------------------------------------------------ one case
def _attach_path(model, cfg, args, path: str, seq_len: int, folder: str) -> dict:
    """Attach the deployment backend of ``path`` (``PATHS``) to ``model``: what the run
    actually computes (``backend``, ``precision_run``: bf16 falls back to fp32 where the CPU
    lacks it)."""
    from dualpose.deploy import attach_backend, export_onnx
    backend, precision, _ = PATHS[path]
    onnx_file = None
    if backend == 'onnxruntime':
        model.seq_len = seq_len
        onnx_file = osp.join(folder, f'{path}.onnx')
        export_onnx(model, onnx_file, int8=precision == 'int8', model_cfg=cfg.model)
    attach_backend(model, backend, precision, onnx_file, args.threads, model_cfg=cfg.model)
    ran = getattr(model.deploy_backend, 'precision', 'fp32')
    return dict(path=path, backend=backend, precision_run=ran)


def _build_step(cfg, args, device, mode: str, precision: str, path: str = None,
                folder: str = None):
    """The model and a closure that runs one iteration of ``mode`` on random inputs (an
    ``infer`` ``path`` through its deployment backend)."""
    torch.manual_seed(0)
    seq_len = args.seq_len or default_seq_len(cfg)
    model, fn, compiled = _prepare_model(cfg, args, device, mode,
                                         PATHS[path][2] if path else None)
    if path:
        model.deploy_info = _attach_path(model, cfg, args, path, seq_len, folder)
        fn, compiled, precision = model, False, 'fp32'   # the backend runs the precision
    num_joints, in_channels = input_shape(model)
    x = torch.randn(args.batch_size, seq_len, num_joints, in_channels, device=device)
    target = torch.randn(args.batch_size, seq_len, num_joints, 3, device=device)
    optimizer = (torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
                 if mode == 'train' else None)

    if mode == 'stream':
        step = (_stream_step_ort(model, x, args.threads) if args.stream_backend == 'onnxruntime'
                else _stream_step(model, fn, x, device, precision, compiled))
        return model, step, seq_len, compiled

    def step():
        if mode == 'infer':
            with torch.no_grad(), _autocast(device, precision):
                fn(x, mode='tensor')
        else:
            with _autocast(device, precision):
                out = fn(x, mode='tensor')
            loss = (out.float() - target).norm(dim=-1).mean()  # MPJPE
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        _sync(device)

    return model, step, seq_len, compiled


def _timed(step):
    """(wall s, process CPU s) of one call (dualpose.utils.timer)."""
    return time_call(step)


def _timing_fields(times, cpu_times, batch_size, seq_len) -> dict:
    wall = summarize(times)
    med = wall['median']
    p99 = sorted(times)[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
    return dict(ms_median=1e3 * med, ms_min=1e3 * wall['min'], ms_max=1e3 * wall['max'],
                ms_per_clip=1e3 * med / batch_size,
                ms_p99=1e3 * p99,
                times_s=sorted(times),
                # CPU time of the process (all threads): with --threads 1 on a busy machine
                # a steadier figure than wall time, which counts time spent descheduled
                cpu_ms_median=1e3 * summarize(cpu_times)['median'],
                clips_per_s=batch_size / med, frames_per_s=batch_size * seq_len / med)


def _prepare_process(args, device) -> bool:
    """Threads and (CPU) the malloc setting; True when malloc was tuned."""
    malloc_tuned = False
    if device.type == 'cpu' and not args.no_malloc_tuning:
        malloc_tuned = keep_freed_memory_mapped()
    if args.threads:
        torch.set_num_threads(args.threads)
    return malloc_tuned


def _peak_memory_fields(args, device) -> dict:
    if device.type == 'cuda':
        return dict(peak_mem_bytes=torch.cuda.max_memory_allocated(device),
                    peak_mem_kind='cuda max_memory_allocated')
    return dict(peak_mem_bytes=_peak_rss_bytes(),
                peak_mem_kind='process peak RSS' + ('' if args.worker_out else ' (cumulative)'))


def _stream_step(model, fn, x, device, precision, compiled):
    """One new frame per track through a causal model's caches (rings of its look-back
    where it has a ``window``), filled first with the T frames of ``x`` (so that each
    temporal layer holds its full look-back)."""
    backbone, head = model.backbone, model.head
    step_fn = torch.compile(backbone.step) if compiled else backbone.step
    state = backbone.init_state(batch=x.shape[0] if backbone.window is not None else None)
    with torch.no_grad(), _autocast(device, precision):
        for t in range(x.shape[1]):
            backbone.step(x[:, t:t + 1], state)
    frame = x[:, -1:]

    def step():
        with torch.no_grad(), _autocast(device, precision):
            head(step_fn(frame, state))
        _sync(device)
    return step


def _stream_step_ort(model, x, threads):
    """As :func:`_stream_step`, the per-frame pass exported to ONNX and run by ONNX Runtime
    (fp32, CPU), its rings filled with the T frames of ``x`` first; a step includes writing
    the new rows into the rings, as :class:`~dualpose.apis.LiftingStream` does."""
    from dualpose.apis.stream import _ort_session, _ort_step, _to_numpy
    session = _ort_session(model, x.shape[0], threads)
    names = [i.name for i in session.get_inputs()]
    state = _to_numpy(model.backbone.init_state(batch=x.shape[0]))
    for t in range(x.shape[1]):
        _ort_step(session, names, state, x[:, t:t + 1].numpy())
    frame = x[:, -1:].numpy()
    return lambda: _ort_step(session, names, state, frame)


def run_case(cfg, args, mode: str, precision: str, path: str = None) -> dict:
    """Time one (mode, precision) or (infer, path) in this process."""
    device = torch.device(args.device)
    malloc_tuned = _prepare_process(args, device)
    with tempfile.TemporaryDirectory() as folder:   # an ONNX path's export
        model, step, seq_len, compiled = _build_step(cfg, args, device, mode, precision, path,
                                                     folder)
        return _time_case(model, step, seq_len, compiled, args, device, mode, precision,
                          malloc_tuned, path)


def _time_case(model, step, seq_len, compiled, args, device, mode, precision, malloc_tuned,
               path):
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    rss_before = _rss_now_bytes()
    warm_times = [_timed(step)[0] for _ in range(args.warmup)]
    times, cpu_times = zip(*[_timed(step) for _ in range(args.repeats)])
    attn = args.stream_backend if mode == 'stream' else args.attn_impl
    if path:
        attn = PATHS[path][2] or args.attn_impl
    res = dict(mode=mode, precision=precision, batch_size=args.batch_size, seq_len=seq_len,
               device=str(device), threads=torch.get_num_threads(), compiled=compiled,
               attn_impl=attn, **(getattr(model, 'deploy_info', None) or {}),
               malloc_tuned=malloc_tuned, warmup_s=warm_times,
               **_timing_fields(times, cpu_times, args.batch_size,
                                1 if mode == 'stream' else seq_len),
               **_peak_memory_fields(args, device))
    if device.type == 'cpu':
        res['rss_before_bytes'] = rss_before
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda'
                                         else [])
        with profile(activities=acts) as prof:
            step()
        res['profile'] = _top_ops(prof, device, args.profile)
    return res


def _run_here(cfg, args, mode: str, precision: str, path: str = None) -> list:
    if args.compare_attn and not path:
        return run_attention_comparison(cfg, args, mode, precision)
    return [run_case(cfg, args, mode, precision, path)]


def run_attention_comparison(cfg, args, mode: str, precision: str) -> list:
    """``--compare-attn A B``: one model, its attention implementation switched between
    iterations in the order A B, B A, A B, ... so that drifts of the machine's speed fall on
    both alike. One result per implementation; the second carries ``speedup_vs`` (the
    median over pairs of time(A) / time(B))."""
    from dualpose.models.layers.attention import MultiHeadSelfAttention
    device = torch.device(args.device)
    malloc_tuned = _prepare_process(args, device)
    model, step, seq_len, compiled = _build_step(cfg, args, device, mode, precision)
    layers = [m for m in model.modules() if isinstance(m, MultiHeadSelfAttention)]
    impls = args.compare_attn

    def timed(impl):
        for m in layers:
            m.attn_impl = impl
        return _timed(step)

    for _ in range(args.warmup):
        for impl in impls:
            timed(impl)
    runs = {impl: [] for impl in impls}
    for i in range(args.repeats):
        for impl in (impls if i % 2 == 0 else impls[::-1]):
            runs[impl].append(timed(impl))
    ratios = summarize([a[0] / b[0] for a, b in zip(runs[impls[0]], runs[impls[1]])])
    results = []
    for impl in impls:
        times, cpu_times = zip(*runs[impl])
        results.append(dict(
            mode=mode, precision=precision, batch_size=args.batch_size, seq_len=seq_len,
            device=str(device), threads=torch.get_num_threads(), compiled=compiled,
            attn_impl=impl, malloc_tuned=malloc_tuned, interleaved_with=impls,
            **_timing_fields(times, cpu_times, args.batch_size, seq_len),
            **_peak_memory_fields(args, device)))
    results[1]['speedup_vs'] = dict(attn_impl=impls[0], **ratios)
    return results


# ------------------------------------------------------------------------------ report
def _fmt_bytes(n):
    return f'{n / 2 ** 30:.2f} GiB'


def report(results, header) -> str:
    """The header lines, then one table row per result (dualpose.utils.table)."""
    lines = [f'{k:<14}: {v}' for k, v in header.items()]
    paths = any(r.get('path') for r in results)
    cols = ('mode',) + (('path', 'run as') if paths else ()) + (
        'prec', 'batch', 'T', 'attn', 'ms/iter median [min, max]', 'p99', 'cpu ms',
        'ms/clip', 'clips/s', 'frames/s', 'GFLOP/s', 'MFU', 'peak mem')
    rows = []
    for r in results:
        extra = ((r.get('path') or '-', f'{r["backend"]} {r["precision_run"]}'
                  if r.get('path') else '-') if paths else ())
        rng = f'{r["ms_median"]:.1f} [{r["ms_min"]:.1f}, {r["ms_max"]:.1f}]'
        mfu = f'{100 * r["mfu"]:.0f}%' if r.get('mfu') is not None else '-'
        gfs = f'{r["model_flops_per_s"] / 1e9:.1f}' if r.get('model_flops_per_s') else '-'
        rows.append((r['mode'], *extra, r['precision'], r['batch_size'], r['seq_len'],
                     r.get('attn_impl') or 'config', rng, f'{r["ms_p99"]:.1f}',
                     f'{r["cpu_ms_median"]:.0f}', f'{r["ms_per_clip"]:.2f}',
                     f'{r["clips_per_s"]:.3f}', f'{r["frames_per_s"]:.1f}', gfs, mfu,
                     _fmt_bytes(r['peak_mem_bytes'])))
    lines += ['', format_table(rows, cols)]
    for r in results:
        if r.get('speedup_vs'):
            sp = r['speedup_vs']
            lines.append(f'{r["attn_impl"]} vs {sp["attn_impl"]} ({r["mode"]}, {r["precision"]}, '
                         f'interleaved): {sp["median"]:.3f}x faster, median over '
                         f'{len(r["times_s"])} pairs [min {sp["min"]:.3f}, max {sp["max"]:.3f}]')
    for r in results:
        if r.get('profile'):
            lines.append('')
            lines.append(f'profile ({r["mode"]}, {r["precision"]}): ops with most self time')
            for row in r['profile']:
                lines.append(f'  {row["percent"]:5.1f}%  {row["self_ms"]:9.1f} ms  '
                             f'{row["calls"]:5d} calls  {row["op"]}')
    return '\n'.join(lines)


def _run_isolated(argv, mode, precision, path=None):
    with tempfile.TemporaryDirectory() as tmp:
        out = osp.join(tmp, 'result.json')
        case = ['--paths', path] if path else ['--precision', precision]
        cmd = [sys.executable, osp.abspath(__file__)] + list(argv) + [
            '--modes', mode, *case, '--worker-out', out]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0 or not osp.isfile(out):
            raise RuntimeError(f'benchmark case ({mode}, {path or precision}) failed '
                               f'(exit {proc.returncode}):\n{proc.stdout[-4000:]}')
        with open(out) as f:
            return json.load(f)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'error: config {args.config!r} does not exist')
    cfg = _load_cfg(args)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        sys.exit('error: --device cuda but CUDA is not available')
    paths = None
    if args.paths and 'infer' in args.modes:
        paths = list(PATHS) if 'all' in args.paths else list(dict.fromkeys(args.paths))
    elif args.paths and not args.worker_out:   # (a worker of another mode ignores it)
        sys.exit('error: --paths times the infer mode; add infer to --modes')
    # (mode, precision, path): the infer mode by path when --paths is given
    cases = [(m, p, None) for m in args.modes for p in args.precision
             if not (paths and m == 'infer')]
    cases += [('infer', PATHS[name][1], name) for name in paths or ()]

    if args.worker_out:  # a child: run the cases, write them, no report
        results = [r for m, p, path in cases for r in _run_here(cfg, args, m, p, path)]
        with open(args.worker_out, 'w') as f:
            json.dump(results, f)
        return results

    if args.threads:
        torch.set_num_threads(args.threads)
    load_start = os.getloadavg() if hasattr(os, 'getloadavg') else None
    flags = cpu_flags()
    seq_len = args.seq_len or default_seq_len(cfg)
    macs = count_macs(cfg, seq_len=seq_len)
    peaks = {p: measure_gemm_peak(device, p, args.gemm_size)
             for p in dict.fromkeys(p for _, p, _ in cases) if p in PRECISIONS}
    results = []
    for mode, precision, path in cases:
        case_results = (_run_here(cfg, args, mode, precision, path) if args.no_isolate
                        else _run_isolated(argv, mode, precision, path))
        flops = 2 * macs['matmul_macs'] * args.batch_size * (3 if mode == 'train' else 1)
        for res in case_results:
            if mode == 'stream':  # one frame against cached keys: no MAC count of its own
                continue
            precision = res.get('precision_run', precision)
            if precision not in peaks:   # int8: no float GEMM peak to compare with
                res['model_flops_per_iter'] = flops
                res['model_flops_per_s'] = flops * 1e3 / res['ms_median']
                res['mfu'] = None
                continue
            res['model_flops_per_iter'] = flops
            res['model_flops_per_s'] = flops * 1e3 / res['ms_median']
            res['gemm_peak_flops_per_s'] = peaks[precision]
            res['mfu'] = res['model_flops_per_s'] / peaks[precision]
        results.extend(case_results)
    load_end = os.getloadavg() if hasattr(os, 'getloadavg') else None
    header = {
        'config': args.config,
        'device': f'{device} ({torch.get_num_threads()} threads)' if device.type == 'cpu'
                  else f'{device} ({torch.cuda.get_device_name(device)})',
        'torch': torch.__version__,
        'MACs/clip': f'{macs["matmul_macs"] / 1e9:.2f} G every matmul, '
                     f'{macs["linear_macs"] / 1e9:.2f} G linear only (T={seq_len})',
        'GEMM peak': ', '.join(f'{p} {v / 1e9:.1f} GFLOP/s' for p, v in peaks.items()),
        'load average': f'{load_start} -> {load_end}' if load_start else 'n/a',
        'CPU flags': describe_cpu_flags(flags),
        'native bf16': str(cpu_has_native_bf16()),
    }
    if device.type == 'cpu' and any(p == 'bf16' for _, p, _ in cases) and \
            not cpu_has_native_bf16():
        header['note'] = ('this CPU has no native bf16 matmul (oneDNN bf16 unsupported): '
                          'bf16 autocast runs slow fallback kernels here')
    print(report(results, header))
    summary = dict(config=args.config, torch=torch.__version__, device=header['device'],
                   macs=macs, gemm_peak_flops_per_s=peaks, loadavg_start=load_start,
                   loadavg_end=load_end, results=results, cpu_flags=flags,
                   native_bf16=cpu_has_native_bf16(),
                   cpu_count=os.cpu_count(), argv=argv)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(summary, f, indent=1)
        print(f'results written to {args.json}')
    return summary


if __name__ == '__main__':
    main()
