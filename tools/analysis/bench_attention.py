"""Time the attention implementations on the spatial and temporal shapes of a config's model.

    .venv/bin/python tools/analysis/bench_attention.py CONFIG [--device cuda] [--batch-size 1]
        [--seq-len T] [--impls sdpa math fused] [--dtypes fp32 bf16] [--repeats 50]
        [--json out.json]

Shapes: temporal (B*J, H, T, D) and spatial (B*T, H, J, D), read from the model's attention
layers. For each implementation: forward time and forward + backward time (median of
``--repeats`` after warm-up), and the largest absolute difference from the explicit math
computed in float64. ``fused`` runs the CUDA kernel on a GPU and the AVX2 kernel (forward
and backward, float32) on a CPU; where neither kernel can run it falls back to SDPA (the log
says so):
``fused_ran_kernel`` in the json tells which ran.
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from dualpose.apis.complexity import (build_model, default_seq_len,  # noqa: E402
                                      input_shape)
from dualpose.models.layers.attention import MultiHeadSelfAttention  # noqa: E402
from dualpose.ops.attention import attention_math, scaled_dot_product  # noqa: E402
from dualpose.utils.config import read_config  # noqa: E402
from dualpose.utils.timer import summarize, time_calls  # noqa: E402

DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Time attention implementations')
    p.add_argument('config', help='model config whose attention is timed')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                   help='cpu or cuda (default: cuda when available)')
    p.add_argument('--batch-size', type=int, default=1, help='clips per call (default 1)')
    p.add_argument('--seq-len', type=int, default=None,
                   help="frames per clip (default: the config's test window)")
    p.add_argument('--impls', nargs='+', default=['sdpa', 'math', 'fused'],
                   choices=['sdpa', 'math', 'fused'], help='implementations to compare')
    p.add_argument('--dtypes', nargs='+', default=['fp32'], choices=list(DTYPES),
                   help='precisions to time (default fp32)')
    p.add_argument('--warmup', type=int, default=3, help='untimed calls first (default 3)')
    p.add_argument('--repeats', type=int, default=50, help='timed calls (default 50)')
    p.add_argument('--threads', type=int, default=None,
                   help="torch CPU threads (default: torch's choice)")
    p.add_argument('--json', help='also write the timings to this json file')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config settings, key=value')
    return p.parse_args(argv)


def attention_shapes(cfg, batch_size: int, seq_len: int):
    """{'temporal': (B*J, H, T, D), 'spatial': (B*T, H, J, D)} of the config's model."""
    model = build_model(cfg)
    attn = next((m for m in model.modules() if isinstance(m, MultiHeadSelfAttention)), None)
    if attn is None:
        raise ValueError('the model has no attention layer')
    j, _ = input_shape(model)
    h, d = attn.num_heads, attn.head_dim
    return {'temporal': (batch_size * j, h, seq_len, d),
            'spatial': (batch_size * seq_len, h, j, d)}


def _timed(fn, device, warmup, repeats):
    """Median milliseconds of ``repeats`` calls after ``warmup`` (dualpose.utils.timer)."""
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == 'cuda' else None
    return 1e3 * summarize([w for w, _ in time_calls(fn, repeats, warmup, sync)])['median']


def bench(shape, impl, dtype, device, warmup, repeats):
    torch.manual_seed(0)
    q, k, v = (torch.randn(*shape, device=device, dtype=dtype) for _ in range(3))
    with torch.no_grad():
        out = scaled_dot_product(q, k, v, impl)
        ref = attention_math(q.double(), k.double(), v.double())
        err = (out.double() - ref).abs().max().item()
        fwd = _timed(lambda: scaled_dot_product(q, k, v, impl), device, warmup, repeats)
    qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
    grad = torch.randn_like(q)

    def fwd_bwd():
        scaled_dot_product(qg, kg, vg, impl).backward(grad)

    both = _timed(fwd_bwd, device, warmup, max(1, repeats // 2))
    flops = 4 * q.numel() // q.shape[-1] * shape[-2] * shape[-1]  # 2 matmuls, 2 FLOPs/MAC
    return dict(impl=impl, dtype=str(dtype).replace('torch.', ''), shape=list(shape),
                fwd_ms=fwd, fwd_bwd_ms=both, fwd_tflops=flops / fwd / 1e9,
                max_abs_err_vs_fp64_math=err)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = read_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = torch.device(args.device)
    seq_len = args.seq_len or default_seq_len(cfg)
    shapes = attention_shapes(cfg, args.batch_size, seq_len)
    fused_ok = False
    if 'fused' in args.impls:
        from dualpose.ops import fused_attention_status
        fused_ok, msg = fused_attention_status(device)
        print(f'fused attention: {msg}')
    rows = []
    print(f'{"shape":<9}{"(BH, H, N, D)":<22}{"impl":<7}{"dtype":<10}{"fwd ms":>9}'
          f'{"fwd+bwd ms":>12}{"fwd TFLOP/s":>13}{"max err":>11}')
    for name, shape in shapes.items():
        for dt in args.dtypes:
            for impl in args.impls:
                r = bench(shape, impl, DTYPES[dt], device, args.warmup, args.repeats)
                r['attention'] = name
                # the CPU kernel takes float32 forwards; other cases run SDPA
                r['fused_ran_kernel'] = (fused_ok and (device.type == 'cuda' or dt == 'fp32')
                                         if impl == 'fused' else None)
                rows.append(r)
                print(f'{name:<9}{str(tuple(shape)):<22}{impl:<7}{r["dtype"]:<10}'
                      f'{r["fwd_ms"]:>9.3f}{r["fwd_bwd_ms"]:>12.3f}{r["fwd_tflops"]:>13.3f}'
                      f'{r["max_abs_err_vs_fp64_math"]:>11.2e}')
    summary = dict(config=args.config, device=str(device), batch_size=args.batch_size,
                   seq_len=seq_len, fused_ran_kernel=fused_ok, rows=rows)
    if device.type == 'cuda':
        summary['device_name'] = torch.cuda.get_device_name(device)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(summary, f, indent=1)
        print(f'written to {args.json}')
    return summary


if __name__ == '__main__':
    main()
