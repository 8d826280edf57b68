"""dualpose against the public MotionAGFormer code, side by side in one process.

    .venv/bin/python tools/analysis/side_by_side.py --reference-code DIR
        [--config configs/dualpose/h36m/dualpose-b_h36m-243f.py] [--reference-size base]
        [--arms fp32-sdpa fp32-fused bf16] [--modes infer train] [--threads 2]
        [--batch-size 1] [--warmup 2] [--repeats 10] [--json out.json]

``DIR`` is a checkout of https://github.com/TaatiTeam/MotionAGFormer (Apache-2.0): the folder
that holds ``model/MotionAGFormer.py``. Its code is imported from there and never copied into
this repository. The reference is built with the hyper-parameters of its H3.6M config of the
chosen size (``configs/h36m/MotionAGFormer-<size>.yaml``, read from ``DIR`` when present) and
runs in fp32.

Every iteration ("round") runs each arm once, the reference included, in an order that rotates
from round to round, so that drifts of the machine's speed fall on every arm alike. An
``infer`` iteration is one forward pass without grad; a ``train`` iteration is forward, MPJPE
loss, backward and an AdamW step, for both models alike. Per arm: the median time, clips per
second, and the speed-up against the reference, the median over rounds of
time(reference) / time(arm). Arms of dualpose: ``fp32-sdpa`` (attention through
``F.scaled_dot_product_attention``), ``fp32-fused`` (the CPU attention kernel), ``bf16``
(bf16 autocast with the kernel where it takes the inputs), and for ``infer`` only
``fp32-onednn`` (:func:`dualpose.deploy.onednn.packed_copy`, with the kernel), ``int8``
(torch's dynamic quantisation, :func:`dualpose.deploy.precision.quantized_copy`),
``ort-fp32`` and ``ort-int8`` (the model exported by :func:`dualpose.deploy.export_onnx` and
run by ONNX Runtime). The CPU flags head the table.
"""
import argparse
import json
import os.path as osp
import sys
import time

import torch

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from dualpose.apis.complexity import build_model, default_seq_len, input_shape  # noqa: E402
from dualpose.models.layers.attention import MultiHeadSelfAttention  # noqa: E402
from dualpose.utils.config import read_config  # noqa: E402
from dualpose.utils.cpu_features import cpu_has_native_bf16, describe_cpu_flags  # noqa: E402
from dualpose.utils.table import format_table  # noqa: E402
from dualpose.utils.timer import summarize  # noqa: E402

# MotionAGFormer's H3.6M configs (configs/h36m/MotionAGFormer-*.yaml of the public code): the
# keys its constructor takes; used when DIR holds no configs folder
REFERENCE_SIZES = {
    'base': dict(n_layers=16, dim_feat=128, num_heads=8, neighbour_num=2, n_frames=243),
    'large': dict(n_layers=26, dim_feat=128, num_heads=8, neighbour_num=2, n_frames=243),
    'small': dict(n_layers=26, dim_feat=64, num_heads=8, neighbour_num=2, n_frames=81),
    'xsmall': dict(n_layers=12, dim_feat=64, num_heads=8, neighbour_num=2, n_frames=27),
}
_REFERENCE_COMMON = dict(dim_in=3, dim_rep=512, dim_out=3, mlp_ratio=4, attn_drop=0.0,
                         drop=0.0, drop_path=0.0, use_layer_scale=True,
                         layer_scale_init_value=1e-5, use_adaptive_fusion=True,
                         qkv_bias=False, qkv_scale=None, hierarchical=False,
                         use_temporal_similarity=True, temporal_connection_len=1,
                         use_tcn=False, graph_only=False, num_joints=17)
ARMS = ('fp32-sdpa', 'fp32-fused', 'fp32-onednn', 'bf16', 'int8', 'ort-fp32', 'ort-int8')
# arms that only infer: the copy with oneDNN's prepacked linear layers (and the fused
# attention kernel), torch's dynamic int8 copy, and the model exported to ONNX (fp32, or int8
# as dualpose.deploy quantises it) run by ONNX Runtime with the same threads
INFER_ONLY = ('fp32-onednn', 'int8', 'ort-fp32', 'ort-int8')
REFERENCE = 'MotionAGFormer fp32'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--reference-code', required=True,
                   help='folder of the public MotionAGFormer code (holds model/MotionAGFormer.py)')
    p.add_argument('--reference-size', choices=sorted(REFERENCE_SIZES), default='base')
    p.add_argument('--config', default='configs/dualpose/h36m/dualpose-b_h36m-243f.py',
                   help='the dualpose model to compare (default: the B model)')
    p.add_argument('--arms', nargs='+', choices=ARMS, default=list(ARMS))
    p.add_argument('--modes', nargs='+', choices=['infer', 'train'], default=['infer', 'train'])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--warmup', type=int, default=2, help='untimed rounds first')
    p.add_argument('--repeats', type=int, default=10, help='timed rounds')
    p.add_argument('--json', help='write the results here too')
    return p.parse_args(argv)


def reference_kwargs(code_dir: str, size: str) -> dict:
    """The constructor arguments of MotionAGFormer of ``size``: its H3.6M yaml in
    ``code_dir`` where present (only the keys the constructor takes), else the table above."""
    kwargs = dict(_REFERENCE_COMMON, **REFERENCE_SIZES[size])
    path = osp.join(code_dir, 'configs', 'h36m', f'MotionAGFormer-{size}.yaml')
    if osp.exists(path):
        import yaml
        with open(path) as f:
            cfg = yaml.safe_load(f)
        kwargs.update({k: cfg[k] for k in kwargs if k in cfg})
    return kwargs


def _drop_path_stand_in() -> bool:
    """The public code imports ``timm.models.layers.DropPath``; where timm is not installed
    (it pulls torchvision in), a stand-in module gives a DropPath that is the identity, which
    is what DropPath(0.0) is (every H3.6M config sets drop_path 0). Returns whether it did."""
    try:
        import timm.models.layers  # noqa: F401
        return False
    except ImportError:
        pass
    import types

    class DropPath(torch.nn.Module):
        def __init__(self, drop_prob: float = 0.0, *args, **kwargs):
            super().__init__()
            if drop_prob:
                raise ValueError('the stand-in DropPath is the identity: drop_path must be 0')

        def forward(self, x):
            return x

    layers = types.ModuleType('timm.models.layers')
    layers.DropPath = DropPath
    for name, module in (('timm', types.ModuleType('timm')),
                         ('timm.models', types.ModuleType('timm.models')),
                         ('timm.models.layers', layers)):
        sys.modules.setdefault(name, module)
    return True


def load_reference(code_dir: str, size: str) -> torch.nn.Module:
    """MotionAGFormer built from the code in ``code_dir``; a clear error where it is not."""
    source = osp.join(code_dir, 'model', 'MotionAGFormer.py')
    if not osp.exists(source):
        raise FileNotFoundError(f'--reference-code {code_dir}: no model/MotionAGFormer.py there; '
                                'give the folder of a checkout of '
                                'https://github.com/TaatiTeam/MotionAGFormer')
    if _drop_path_stand_in():
        print('timm is not installed: DropPath of the reference is an identity stand-in '
              '(drop_path 0)')
    sys.path.insert(0, osp.abspath(code_dir))
    try:
        from model.MotionAGFormer import MotionAGFormer
    finally:
        sys.path.remove(osp.abspath(code_dir))
    return MotionAGFormer(**reference_kwargs(code_dir, size))


def _set_attn(model, impl: str) -> None:
    for m in model.modules():
        if isinstance(m, MultiHeadSelfAttention):
            m.attn_impl = impl


def make_steps(cfg, reference, mode: str, batch_size: int, seq_len: int, arms,
               threads: int = 2):
    """{arm name: a closure running one iteration of ``mode``}, the reference included.
    dualpose's arms share one model (its attention switched per arm) and one optimiser."""
    torch.manual_seed(0)
    ours = build_model(cfg)
    num_joints, channels = input_shape(ours)
    x = torch.randn(batch_size, seq_len, num_joints, channels)
    target = torch.randn(batch_size, seq_len, num_joints, 3)
    models = {'ours': ours, 'reference': reference}
    optims = {k: torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.01)
              for k, m in models.items()} if mode == 'train' else {}
    for m in models.values():
        m.train(mode == 'train')

    def one(which, forward, precision):
        def step():
            ctx = (torch.autocast('cpu', dtype=torch.bfloat16) if precision == 'bf16'
                   else torch.autocast('cpu', enabled=False))
            if mode == 'infer':
                with torch.no_grad(), ctx:
                    forward()
                return
            with ctx:
                out = forward()
            loss = (out.float() - target).norm(dim=-1).mean()
            loss.backward()
            optims[which].step()
            optims[which].zero_grad(set_to_none=True)
        return step

    def ours_forward(impl):
        def forward():
            _set_attn(ours, impl)
            return ours(x, mode='tensor')
        return forward

    impl = {'fp32-sdpa': 'sdpa', 'fp32-fused': 'fused', 'bf16': 'fused'}
    steps = {REFERENCE: one('reference', lambda: reference(x), 'fp32')}
    for arm in arms:
        if arm in INFER_ONLY:
            if mode == 'infer':
                steps[f'dualpose {arm}'] = deployed_step(ours, arm, x, threads, cfg.model)
            continue
        steps[f'dualpose {arm}'] = one('ours', ours_forward(impl[arm]),
                                       'bf16' if arm == 'bf16' else 'fp32')
    return steps


def deployed_step(model, arm: str, x: torch.Tensor, threads: int, model_cfg=None):
    """One inference of a copy of ``model`` on ``x`` through the deployment backend of the
    benchmark's path ``arm`` (``benchmark.PATHS``: backend, precision, attention), attached
    by :func:`dualpose.deploy.attach_backend` as the inference API does; an ONNX Runtime
    path is exported to a temporary file first."""
    import copy
    import tempfile

    from benchmark import PATHS
    from dualpose.deploy import attach_backend, export_onnx
    backend, precision, attn = PATHS[arm]
    clone = copy.deepcopy(model).eval()
    if attn:
        _set_attn(clone, attn)
    with tempfile.TemporaryDirectory() as folder:
        onnx_file = None
        if backend == 'onnxruntime':
            onnx_file = osp.join(folder, 'model.onnx')
            export_onnx(clone, onnx_file, int8=precision == 'int8', model_cfg=model_cfg)
        attach_backend(clone, backend, precision, onnx_file, threads, model_cfg=model_cfg)

    def step():
        with torch.no_grad():
            clone(x, mode='tensor')
    return step


def interleave(steps: dict, warmup: int, repeats: int) -> dict:
    """{name: [seconds per round]}: every round runs each step once, the order rotating by
    one from round to round."""
    names = list(steps)
    times = {n: [] for n in names}
    for r in range(warmup + repeats):
        shift = r % len(names)
        for n in names[shift:] + names[:shift]:
            start = time.perf_counter()
            steps[n]()
            if r >= warmup:
                times[n].append(time.perf_counter() - start)
    return times


def summarize_rounds(times: dict, batch_size: int) -> list:
    ref = times[REFERENCE]
    rows = []
    for name, ts in times.items():
        med = summarize(ts)['median']
        ratio = summarize([a / b for a, b in zip(ref, ts)])['median']
        rows.append(dict(arm=name, median_ms=med * 1e3, min_ms=min(ts) * 1e3,
                         clips_per_s=batch_size / med, speedup_vs_reference=ratio))
    return rows


def main(argv=None):
    args = parse_args(argv)
    if HERE not in sys.path:   # benchmark.py: the GEMM peak and the deployment paths
        sys.path.insert(0, HERE)
    torch.set_num_threads(args.threads)
    cfg = read_config(args.config)
    seq_len = default_seq_len(cfg)
    ref_frames = reference_kwargs(args.reference_code, args.reference_size)['n_frames']
    if seq_len != ref_frames:
        raise SystemExit(f'{args.config} has T = {seq_len} and MotionAGFormer-'
                         f'{args.reference_size} T = {ref_frames}: compare models of one clip '
                         'length (e.g. the B model against base, XS against xsmall)')
    reference = load_reference(args.reference_code, args.reference_size)
    arms = list(args.arms)
    notes = []
    if 'bf16' in arms and not cpu_has_native_bf16():
        notes.append('bf16 left out: this CPU has no native bf16 (AVX512-BF16 or AMX)')
        arms.remove('bf16')
    from benchmark import measure_gemm_peak   # the same peak as benchmark.py's tables
    peaks = {p: measure_gemm_peak(torch.device('cpu'), p) / 1e9
             for p in (['fp32', 'bf16'] if cpu_has_native_bf16() else ['fp32'])}
    header = dict(cpu_flags=describe_cpu_flags(), threads=args.threads,
                  gemm_peak_gflops={p: round(v, 1) for p, v in peaks.items()},
                  batch_size=args.batch_size, seq_len=seq_len, config=args.config,
                  reference=f'MotionAGFormer-{args.reference_size} ({args.reference_code})',
                  reference_params=sum(p.numel() for p in reference.parameters()),
                  repeats=args.repeats, warmup=args.warmup, notes=notes)
    results = {}
    for mode in args.modes:
        steps = make_steps(cfg, reference, mode, args.batch_size, seq_len, arms, args.threads)
        results[mode] = summarize_rounds(interleave(steps, args.warmup, args.repeats),
                                         args.batch_size)
    peak_text = ', '.join(f'{p} {v:.0f}' for p, v in peaks.items())
    lines = [f'CPU flags: {header["cpu_flags"]}; GEMM peak {peak_text} GFLOP/s; '
             f'{args.threads} threads, batch '
             f'{args.batch_size}, T {seq_len}; {header["reference"]}; median of '
             f'{args.repeats} interleaved rounds'] + notes
    for mode, rows in results.items():
        lines.append(f'\n{mode}:')
        lines.append(format_table(
            [[r['arm'], f'{r["median_ms"]:.1f}', f'{r["clips_per_s"]:.3f}',
              f'{r["speedup_vs_reference"]:.2f}x'] for r in rows],
            ['arm', 'ms per iteration', 'clips/s', 'speed-up vs MotionAGFormer'],
            style='markdown'))
    text = '\n'.join(lines)
    print(text)
    out = dict(header=header, results=results)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == '__main__':
    main()
