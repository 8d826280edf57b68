"""tools/analysis/get_flops.py (count_macs) and tools/analysis/benchmark.py on tiny models."""
import json
import os.path as osp

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dualpose.utils.config import read_config
from dualpose.apis.complexity import build_model, count_macs
from tests.conftest import REPO_ROOT, load_tool

TINY = osp.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')


def _small_cfg(temporal_graph='banded', dim=16, depth=2, heads=2, hidden=32):
    cfg = read_config(TINY)
    cfg.model.backbone.arch = dict(embed_dims=dim, depth=depth, num_heads=heads)
    cfg.model.backbone.gcn_stream = dict(type='GCNStream', temporal_graph=temporal_graph, k=2)
    cfg.model.head.in_channels = dim
    cfg.model.head.hidden_dims = hidden
    return cfg


@pytest.mark.parametrize('graph', ['banded', 'knn'])
@pytest.mark.parametrize('t', [1, 9])
def test_count_macs_matches_hand_count(graph, t):
    c, depth, hidden, j = 16, 2, 32, 17
    res = count_macs(_small_cfg(graph, c, depth, hidden=hidden), seq_len=t)
    tokens = t * j
    # per block: Transformer stream 2 x (qkv 3C^2 + proj C^2 + MLP 8C^2), GCN stream
    # 2 x (U, V 2C^2 + MLP 8C^2), fusion 2C x 2; embedding 3C; head C*hidden + hidden*3
    linear = tokens * (depth * (44 * c * c + 4 * c) + 3 * c + c * hidden + hidden * 3)
    attention = depth * (2 * j * t * t * c + 2 * t * j * j * c)
    graph_macs = depth * t * j * j * c  # skeleton A_hat (J, J) @ V per frame
    if graph == 'knn':  # frame similarity per joint (a single frame is its own neighbour)
        graph_macs += depth * j * t * t * c
    assert res['linear_macs'] == linear
    assert res['matmul_by_kind'] == dict(linear=linear, attention=attention, graph=graph_macs,
                                         other=0)
    assert res['matmul_macs'] == linear + attention + graph_macs
    assert res['matmul_macs_per_frame'] == pytest.approx(res['matmul_macs'] / t)
    assert res['seq_len'] == t and res['num_joints'] == 17


def test_count_macs_equals_a_real_forward_with_explicit_math():
    """The meta-device count equals FlopCounterMode on a real CPU forward that runs every
    attention as explicit matmuls."""
    cfg = _small_cfg('knn')
    model = build_model(cfg).eval()
    res = count_macs(model=model, seq_len=7)
    for m in model.modules():
        if hasattr(m, 'attn_impl'):
            m.attn_impl = 'math'
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(torch.randn(2, 7, 17, 3), mode='tensor')
    assert fc.get_total_flops() // 2 == 2 * res['matmul_macs']  # two clips
    assert res['params'] == sum(p.numel() for p in model.parameters())
    assert next(model.parameters()).device.type == 'cpu'  # the given model is untouched


def test_count_macs_inputs_and_defaults():
    by_path = count_macs(TINY)
    assert by_path['seq_len'] == 27  # the config's seq_len
    assert count_macs(read_config(TINY))['matmul_macs'] == by_path['matmul_macs']
    assert count_macs(dict(read_config(TINY).model), seq_len=27)['matmul_macs'] == \
        by_path['matmul_macs']
    long = count_macs(TINY, seq_len=500)  # any T, counted without computing
    assert long['linear_macs_per_frame'] == pytest.approx(by_path['linear_macs_per_frame'])
    with pytest.raises(FileNotFoundError):
        count_macs('no/such/config.py')


def test_get_flops_tool_prints_both_counts(tmp_path, capsys):
    tool = load_tool('tools/analysis/get_flops.py')
    out_json = tmp_path / 'flops.json'
    res = tool.main([TINY, '--seq-len', '9', '--json', str(out_json)])
    text = capsys.readouterr().out
    assert 'linear layers only' in text and 'every matmul' in text and 'MMACs/frame' in text
    saved = json.loads(out_json.read_text())
    assert saved['matmul_macs'] == res['matmul_macs'] and saved['seq_len'] == 9


def _check_result(r, mode, precision):
    assert r['mode'] == mode and r['precision'] == precision
    assert r['ms_min'] <= r['ms_median'] <= r['ms_max'] and r['cpu_ms_median'] > 0
    assert r['frames_per_s'] == pytest.approx(r['clips_per_s'] * r['seq_len'])
    assert r['clips_per_s'] == pytest.approx(r['batch_size'] * 1e3 / r['ms_median'])
    assert r['peak_mem_bytes'] > 0 and 0 < r['mfu']
    assert r['model_flops_per_iter'] > 0


def test_benchmark_in_process_with_profile(tmp_path, capsys):
    tool = load_tool('tools/analysis/benchmark.py')
    out_json = tmp_path / 'bench.json'
    summary = tool.main([TINY, '--seq-len', '9', '--batch-size', '2', '--threads', '1',
                         '--warmup', '1', '--repeats', '2', '--no-isolate', '--profile', '3',
                         '--attn-impl', 'math', '--gemm-size', '512', '--json', str(out_json)])
    text = capsys.readouterr().out
    assert 'MFU' in text and 'frames/s' in text and 'profile (train, fp32)' in text
    modes = [r['mode'] for r in summary['results']]
    assert modes == ['infer', 'train']
    for r in summary['results']:
        _check_result(r, r['mode'], 'fp32')
        assert r['attn_impl'] == 'math' and len(r['profile']) == 3
        assert r['malloc_tuned'] in (True, False)
        assert r['batch_size'] == 2 and r['seq_len'] == 9 and len(r['times_s']) == 2
    train = summary['results'][1]
    assert train['model_flops_per_iter'] == 3 * summary['results'][0]['model_flops_per_iter']
    saved = json.loads(out_json.read_text())
    assert saved['gemm_peak_flops_per_s']['fp32'] > 0
    assert saved['macs']['matmul_macs'] == count_macs(TINY, seq_len=9)['matmul_macs']


def test_benchmark_compares_attention_implementations_interleaved(capsys):
    tool = load_tool('tools/analysis/benchmark.py')
    summary = tool.main([TINY, '--seq-len', '9', '--modes', 'infer', '--threads', '1',
                         '--warmup', '1', '--repeats', '3', '--compare-attn', 'math', 'sdpa',
                         '--gemm-size', '256'])
    a, b = summary['results']
    assert (a['attn_impl'], b['attn_impl']) == ('math', 'sdpa')
    for r in (a, b):
        _check_result(r, 'infer', 'fp32')
        assert len(r['times_s']) == 3 and r['interleaved_with'] == ['math', 'sdpa']
        assert 'cumulative' not in r['peak_mem_kind']  # the pair ran in its own process
    sp = b['speedup_vs']
    assert sp['attn_impl'] == 'math' and 0 < sp['min'] <= sp['median'] <= sp['max']
    assert 'sdpa vs math (infer, fp32, interleaved)' in capsys.readouterr().out
    with pytest.raises(SystemExit):  # one of --attn-impl and --compare-attn
        tool.parse_args([TINY, '--attn-impl', 'sdpa', '--compare-attn', 'sdpa', 'fused'])


def test_benchmark_isolated_case_and_bf16(capsys):
    tool = load_tool('tools/analysis/benchmark.py')
    summary = tool.main([TINY, '--seq-len', '5', '--modes', 'infer', '--precision', 'bf16',
                         '--threads', '1', '--warmup', '1', '--repeats', '1',
                         '--gemm-size', '512'])
    (r, ) = summary['results']
    _check_result(r, 'infer', 'bf16')
    assert 'cumulative' not in r['peak_mem_kind']  # its own process


def test_gemm_peak_is_measured():
    tool = load_tool('tools/analysis/benchmark.py')
    assert tool.measure_gemm_peak(torch.device('cpu'), 'fp32', size=256, repeats=1) > 1e8


def test_malloc_tuning_applies_once():
    import sys

    from dualpose.utils.cpu_malloc import keep_freed_memory_mapped
    first = keep_freed_memory_mapped()
    assert keep_freed_memory_mapped() is first
    if sys.platform.startswith('linux'):
        import platform
        if platform.libc_ver()[0] == 'glibc':
            assert first is True


def test_bench_attention_tool_on_cpu(capsys):
    tool = load_tool('tools/analysis/bench_attention.py')
    summary = tool.main([TINY, '--device', 'cpu', '--seq-len', '9', '--batch-size', '2',
                         '--repeats', '2', '--warmup', '1', '--threads', '1'])
    rows = summary['rows']
    assert {(r['attention'], r['impl']) for r in rows} == {
        (a, i) for a in ('temporal', 'spatial') for i in ('sdpa', 'math', 'fused')}
    shapes = {r['attention']: tuple(r['shape']) for r in rows}
    # the default config: C 64, 4 heads -> head dim 16
    assert shapes == {'temporal': (2 * 17, 4, 9, 16), 'spatial': (2 * 9, 4, 17, 16)}
    assert all(r['max_abs_err_vs_fp64_math'] < 1e-5 for r in rows)
    # no CUDA here: the CPU kernel ran where it builds (head dim 16), SDPA otherwise
    from dualpose.ops.cpu_attention import load_cpu_kernel
    assert summary['fused_ran_kernel'] is (load_cpu_kernel() is not None)
    assert 'fused attention:' in capsys.readouterr().out


def test_benchmark_stream_mode_times_the_per_frame_pass(capsys):
    tool = load_tool('tools/analysis/benchmark.py')
    causal = TINY.replace('dualpose-tiny_synthetic-27f.py', 'dualpose-tiny-causal_synthetic-27f.py')
    summary = tool.main([causal, '--modes', 'infer', 'stream', '--seq-len', '9', '--threads', '1',
                         '--warmup', '1', '--repeats', '4', '--no-isolate', '--gemm-size', '256',
                         '--cfg-options', 'model.backbone.arch.depth=1',
                         'model.backbone.window=9'])
    infer, stream = summary['results']
    assert stream['mode'] == 'stream' and stream['seq_len'] == 9 and len(stream['times_s']) == 4
    assert stream['ms_p99'] >= stream['ms_median'] > 0 and 'mfu' not in stream
    assert stream['frames_per_s'] == pytest.approx(1e3 / stream['ms_median'])
    assert 'stream' in capsys.readouterr().out
    with pytest.raises(ValueError, match='needs a causal config'):
        tool.main([TINY, '--modes', 'stream', '--no-isolate', '--repeats', '1', '--warmup', '0',
                   '--gemm-size', '256'])
