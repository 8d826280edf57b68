"""The deployment backends behind the inference API and tools/test.py: ONNX Runtime equal to
torch, reduced precision (bf16 where the CPU has it, int8 in torch and ONNX Runtime), the
switches of the demo, tools/test.py, the benchmark and the precision study."""
import glob
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.conftest import REPO_ROOT, load_tool
from tests.test_deploy.conftest import (DEMO_CKPT, TINY_CONFIG, TRAJ_CKPT, TRAJ_CONFIG,
                                        small_model)

from dualpose.apis import inference_lifting, init_model  # noqa: E402
from dualpose.deploy import precision as precision_mod  # noqa: E402

onnx_needed = pytest.mark.skipif(
    any(__import__('importlib').util.find_spec(m) is None for m in ('onnx', 'onnxruntime')),
    reason='needs onnx and onnxruntime')


def walking():
    """The shipped 2D sample, 100 frames (several windows of 27)."""
    from dualpose.keypoints import read_keypoints
    seq = read_keypoints(osp.join(REPO_ROOT, 'demo/samples/synthetic_walking_coco17.json'))
    return seq.keypoints[:100], seq.scores[:100], seq.image_size


@onnx_needed
def test_inference_api_on_onnxruntime_equals_torch(demo_onnx):
    """inference_lifting (flip test, overlapping windows, a short padded sequence) through
    the ONNX Runtime backend: the same poses as torch within 1e-4."""
    path, _ = demo_onnx
    ref = init_model(TINY_CONFIG, DEMO_CKPT)
    ort = init_model(TINY_CONFIG, DEMO_CKPT, backend='onnxruntime', onnx_file=path, threads=1)
    assert ort.deploy_backend.description == f'onnxruntime fp32 ({path})'
    kp, scores, size = walking()
    for frames, flip in ((100, True), (100, False), (12, True)):
        a = inference_lifting(ref, kp[:frames], size, scores[:frames], converter='coco17',
                              flip_test=flip).keypoints_3d
        b = inference_lifting(ort, kp[:frames], size, scores[:frames], converter='coco17',
                              flip_test=flip).keypoints_3d
        assert a.shape == (frames, 17, 3)
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-4)
    with pytest.raises(RuntimeError, match='a deployment backend is attached'):
        ort.loss(torch.zeros(1, 27, 17, 3), [])


@onnx_needed
def test_trajectory_model_on_the_cache_route_equals_torch(tmp_path):
    """No file given: exported once into $DUALPOSE_ONNX_CACHE and reused; the camera-space
    output (pose and trajectory heads) equals torch's."""
    from dualpose.deploy import onnx_cache_dir
    ref = init_model(TRAJ_CONFIG, TRAJ_CKPT)
    ort = init_model(TRAJ_CONFIG, TRAJ_CKPT, backend='onnxruntime')
    cached = glob.glob(osp.join(onnx_cache_dir(), '*.onnx'))
    assert len(cached) == 1 and 'fp32' in osp.basename(cached[0])
    mtime = osp.getmtime(cached[0])
    again = init_model(TRAJ_CONFIG, TRAJ_CKPT, backend='onnxruntime')
    assert again.deploy_backend.onnx_file == cached[0] and osp.getmtime(cached[0]) == mtime
    kp, scores, size = walking()
    a = inference_lifting(ref, kp, size, scores, converter='coco17')
    b = inference_lifting(ort, kp, size, scores, converter='coco17')
    np.testing.assert_allclose(b.keypoints_3d, a.keypoints_3d, rtol=0, atol=1e-4)
    np.testing.assert_allclose(b.root_camera, a.root_camera, rtol=1e-4, atol=0.05)   # mm
    np.testing.assert_allclose(b.keypoints_3d_camera, a.keypoints_3d_camera, rtol=1e-4,
                               atol=0.05)


def _deviation(a, b):
    """Mean per-joint distance, over the frames where both are defined (the demo writes NaN
    where a person is absent)."""
    return float(np.nanmean(np.linalg.norm(a - b, axis=-1)))


@onnx_needed
def test_int8_in_torch_and_onnxruntime_is_close_to_fp32_but_not_equal(demo_onnx, tmp_path):
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    from dualpose.deploy import export_onnx
    ref = init_model(TINY_CONFIG, DEMO_CKPT)
    q = init_model(TINY_CONFIG, DEMO_CKPT, precision='int8')
    copy = q.deploy_backend.module
    quantised = [m for m in copy.modules() if isinstance(m, QLinear)]
    # every linear layer but the adaptive fusion gates (their weight is read in slices, 4),
    # the input embedding and the head's two layers (kept in fp32: FP32_MODULES)
    assert len(quantised) == sum(isinstance(m, torch.nn.Linear) for m in ref.modules()) - 7
    assert type(copy.backbone.embed) is torch.nn.Linear
    assert not any(isinstance(m, QLinear) for m in copy.head.modules())
    assert not any(isinstance(m, QLinear) for m in q.modules())   # the model itself is fp32
    path8 = str(tmp_path / 'int8.onnx')
    export_onnx(ref, path8, int8=True, checkpoint=DEMO_CKPT)
    import onnx
    ops = {n.name: n.op_type for n in onnx.load(path8).graph.node}
    assert ops['/backbone/embed/MatMul'] == 'MatMul' and ops['/head/fc/MatMul'] == 'MatMul'
    assert list(ops.values()).count('MatMulInteger') > 10
    o8 = init_model(TINY_CONFIG, DEMO_CKPT, backend='onnxruntime', onnx_file=path8,
                    precision='int8')
    kp, scores, size = walking()
    a = inference_lifting(ref, kp, size, scores, converter='coco17').keypoints_3d
    for model in (q, o8):
        b = inference_lifting(model, kp, size, scores, converter='coco17').keypoints_3d
        # normalised units (a body is about 0.5): off by well under 5 % of it, yet off
        assert 1e-4 < _deviation(a, b) < 0.03, model.deploy_backend.description
    fp32_file, _ = demo_onnx
    with pytest.raises(ValueError, match="is a fp32 export, precision='int8' was asked for"):
        init_model(TINY_CONFIG, DEMO_CKPT, backend='onnxruntime', onnx_file=fp32_file,
                   precision='int8')
    with pytest.raises(ValueError, match="precision='bf16' runs in torch"):
        init_model(TINY_CONFIG, DEMO_CKPT, backend='onnxruntime', precision='bf16')
    with pytest.raises(FileNotFoundError, match="absent.onnx' does not exist"):
        init_model(TINY_CONFIG, DEMO_CKPT, backend='onnxruntime',
                   onnx_file=str(tmp_path / 'absent.onnx'))
    with pytest.raises(ValueError, match="is read by backend='onnxruntime'"):
        init_model(TINY_CONFIG, DEMO_CKPT, onnx_file=fp32_file)


def test_bf16_where_the_cpu_has_it_and_fp32_with_one_log_line_where_not(monkeypatch):
    lines = []
    monkeypatch.setattr(precision_mod, '_log', lines.append)
    monkeypatch.setattr(precision_mod, 'bf16_supported', lambda device='cpu': False)
    kp, scores, size = walking()
    ref = init_model(TINY_CONFIG, DEMO_CKPT)
    a = inference_lifting(ref, kp, size, scores, converter='coco17').keypoints_3d
    fallback = init_model(TINY_CONFIG, DEMO_CKPT, precision='bf16')
    assert fallback.deploy_backend is None
    assert len(lines) == 1 and "precision='bf16' asked for" in lines[0] and \
        'running fp32 instead' in lines[0] and 'CPU flags:' in lines[0]
    b = inference_lifting(fallback, kp, size, scores, converter='coco17').keypoints_3d
    np.testing.assert_array_equal(b, a)
    monkeypatch.setattr(precision_mod, 'bf16_supported', lambda device='cpu': True)
    native = init_model(TINY_CONFIG, DEMO_CKPT, precision='bf16')
    assert native.deploy_backend.precision == 'bf16' and len(lines) == 1
    c = inference_lifting(native, kp, size, scores, converter='coco17').keypoints_3d
    assert c.dtype == np.float32 and 1e-5 < _deviation(a, c) < 0.02   # bf16 has 8 bits
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'bf16', 'int8'\), "
                                         r"got 'fp16'"):
        init_model(TINY_CONFIG, DEMO_CKPT, precision='fp16')


def test_cpu_flags_and_native_bf16_detection(tmp_path, monkeypatch):
    from dualpose.utils import cpu_features
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni\n')
    flags = cpu_features.cpu_flags(str(info))
    assert flags['avx2'] and flags['avx512f'] and flags['avx512_vnni']
    assert flags['avx512_bf16'] is False and flags['amx_bf16'] is False
    assert cpu_features.describe_cpu_flags(flags).startswith('avx2 avx512f -avx512_bf16')
    assert set(cpu_features.cpu_flags(str(tmp_path / 'absent')).values()) == {None}
    monkeypatch.setattr(cpu_features, '_onednn_bf16', lambda: True)
    monkeypatch.setattr(cpu_features, '_cpuinfo_flags', lambda path='': {'avx512f'})
    assert cpu_features.cpu_has_native_bf16() is False   # oneDNN emulates on plain AVX512
    monkeypatch.setattr(cpu_features, '_cpuinfo_flags', lambda path='': {'avx512_bf16'})
    assert cpu_features.cpu_has_native_bf16() is True
    monkeypatch.setattr(cpu_features, '_onednn_bf16', lambda: False)
    assert cpu_features.cpu_has_native_bf16() is False


def test_int8_layer_scale_folding_keeps_the_function():
    import copy

    from dualpose.deploy.precision import fold_layer_scales
    model = small_model()
    folded = copy.deepcopy(model)
    assert fold_layer_scales(folded) == 6   # attention proj x2, MLP fc2 x4 (GCN keeps ls1)
    x = torch.randn(2, 27, 17, 3)
    with torch.no_grad():
        torch.testing.assert_close(folded.heads_forward(x, False)[0],
                                   model.heads_forward(x, False)[0], rtol=1e-5, atol=1e-6)


def test_inference_copy_runs_the_attention_kernel_with_the_same_values():
    from dualpose.deploy.precision import inference_copy
    from dualpose.models.layers.attention import MultiHeadSelfAttention
    model = small_model().eval()
    clone = inference_copy(model)
    impls = {m.attn_impl for m in clone.modules() if isinstance(m, MultiHeadSelfAttention)}
    assert impls == {'fused'}
    assert {m.attn_impl for m in model.modules()
            if isinstance(m, MultiHeadSelfAttention)} == {'sdpa'}   # the original is as was
    x = torch.randn(2, 27, 17, 3)
    with torch.no_grad():
        torch.testing.assert_close(clone.heads_forward(x, False)[0],
                                   model.heads_forward(x, False)[0], rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ the tools
def _run(argv, tmp_path):
    env = dict(__import__('os').environ, MPLCONFIGDIR=str(tmp_path / 'mpl'),
               OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT,
               DUALPOSE_ONNX_CACHE=str(tmp_path / 'cache'))
    res = subprocess.run([sys.executable, *argv], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout + res.stderr


def _metrics(work):
    path, = glob.glob(osp.join(work, '*', 'test_metrics.json'))
    with open(path) as f:
        return json.load(f)


@onnx_needed
def test_test_tool_scores_the_same_through_onnxruntime(demo_onnx, tiny_h36m_file, tmp_path):
    path, _ = demo_onnx
    data = [f'test_dataloader.dataset.data_root={osp.dirname(tiny_h36m_file)}']
    common = ['tools/test.py', TINY_CONFIG, DEMO_CKPT]
    _run([*common, '--work-dir', str(tmp_path / 'torch'), '--cfg-options', *data], tmp_path)
    out = _run([*common, '--work-dir', str(tmp_path / 'ort'), '--backend', 'onnxruntime',
                '--onnx-file', path, '--cfg-options', *data], tmp_path)
    assert f'test backend: onnxruntime fp32 ({path})' in out
    a, b = _metrics(str(tmp_path / 'torch')), _metrics(str(tmp_path / 'ort'))
    assert a.keys() == b.keys() and 'lift/mpjpe' in a
    for key in a:
        assert b[key] == pytest.approx(a[key], abs=1e-3), key   # mm
    tool = load_tool('tools/test.py')
    out = _run([*common, '--work-dir', str(tmp_path / 'onednn'), '--backend', 'onednn',
                '--cfg-options', *data], tmp_path)
    c = _metrics(str(tmp_path / 'onednn'))
    for key in a:
        assert c[key] == pytest.approx(a[key], abs=1e-3), key
    for bad, message in ((['--onnx-file', path], 'is read by --backend onnxruntime'),
                         (['--backend', 'onednn', '--precision', 'int8'], 'runs fp32'),
                         (['--backend', 'onnxruntime', '--onnx-file', 'absent.onnx'],
                          "'absent.onnx' does not exist"),
                         (['--backend', 'onnxruntime', '--precision', 'bf16'],
                          'runs in torch')):
        with pytest.raises(SystemExit, match=message):
            tool.main([TINY_CONFIG, DEMO_CKPT, *bad, '--cfg-options', *data])


@onnx_needed
def test_test_tool_refuses_an_onnx_file_of_another_config(demo_onnx, tiny_h36m_file,
                                                           tmp_path):
    path, _ = demo_onnx
    traj = osp.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny-traj_synthetic-27f.py')
    env = dict(__import__('os').environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    res = subprocess.run([sys.executable, 'tools/test.py', traj, TRAJ_CKPT, '--work-dir',
                          str(tmp_path / 'w'), '--backend', 'onnxruntime', '--onnx-file', path,
                          '--cfg-options', 'test_dataloader.dataset.data_root='
                          f'{osp.dirname(tiny_h36m_file)}'],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode != 0
    assert f"{path!r} does not match" in res.stderr and 'traj_head TrajectoryHead' in res.stderr


@onnx_needed
def test_demo_lifts_a_file_through_onnxruntime_and_int8(tmp_path):
    demo = load_tool('demo/lift_keypoints.py')
    sample = osp.join(REPO_ROOT, 'demo/samples/synthetic_walking_coco17.json')
    common = [sample, '--fps', '50', '--no-anim', '--no-progress', '--no-viewer', '--no-bvh']
    outs = {}
    for name, extra in (('torch', []), ('ort', ['--backend', 'onnxruntime']),
                        ('onednn', ['--backend', 'onednn']), ('int8', ['--precision', 'int8'])):
        assert demo.main([*common, '--out-dir', str(tmp_path / name), *extra]) == 0
        outs[name] = np.load(tmp_path / name / 'synthetic_walking_coco17_3d.npz')
    for key in ('keypoints_3d', 'keypoints_3d_camera'):
        np.testing.assert_allclose(outs['ort'][key], outs['torch'][key], rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(outs['onednn'][key], outs['torch'][key], rtol=1e-4, atol=1e-3)
    assert 0 < _deviation(outs['int8']['keypoints_3d'], outs['torch']['keypoints_3d']) < 0.03
    assert demo.main([*common, '--out-dir', str(tmp_path / 'x'), '--online',
                      '--precision', 'bf16']) == 1   # the stream runs fp32: refused
    assert demo.main([*common, '--out-dir', str(tmp_path / 'x'), '--online',
                      '--backend', 'onednn']) == 1   # a whole-file backend: refused


@onnx_needed
def test_benchmark_times_every_inference_path(tmp_path, capsys):
    tool = load_tool('tools/analysis/benchmark.py')
    summary = tool.main([TINY_CONFIG, '--seq-len', '9', '--modes', 'infer', '--paths', 'all',
                         '--threads', '1', '--warmup', '1', '--repeats', '2', '--no-isolate',
                         '--gemm-size', '256', '--cfg-options', 'model.backbone.arch.depth=1',
                         '--json', str(tmp_path / 'b.json')])
    text = capsys.readouterr().out
    rows = {r['path']: r for r in summary['results']}
    assert list(rows) == ['fp32-sdpa', 'fp32-fused', 'fp32-onednn', 'bf16', 'int8', 'ort-fp32',
                          'ort-int8']
    for name, r in rows.items():
        assert r['mode'] == 'infer' and r['ms_per_clip'] > 0 and r['clips_per_s'] > 0
        assert r['ms_per_clip'] == pytest.approx(1e3 / r['clips_per_s'])
        assert f'| {name} |' in text.replace('  ', ' ') or name in text
    assert rows['ort-int8']['backend'] == 'onnxruntime' and rows['int8']['mfu'] is None
    assert rows['fp32-fused']['attn_impl'] == 'fused'
    assert rows['fp32-onednn']['backend'] == 'onednn' and rows['fp32-onednn']['precision_run'] \
        == 'fp32'
    from dualpose.utils.cpu_features import cpu_has_native_bf16
    assert rows['bf16']['precision_run'] == ('bf16' if cpu_has_native_bf16() else 'fp32')
    saved = json.loads((tmp_path / 'b.json').read_text())
    assert set(saved['cpu_flags']) >= {'avx2', 'avx512f', 'avx512_bf16', 'avx512_vnni',
                                       'amx_bf16'}
    assert 'CPU flags' in text and 'ms/clip' in text


@onnx_needed
def test_precision_study_on_a_few_clips(tiny_h36m_file, tmp_path, capsys):
    tool = load_tool('tools/deployment/precision_study.py')
    out = tmp_path / 'results'
    summary = tool.main(['--max-clips', '4', '--paths', 'ort-fp32', 'int8', '--out-dir',
                         str(out), '--work-dir', str(tmp_path / 'work'), '--threads', '1',
                         '--cfg-options',
                         f'test_dataloader.dataset.data_root={osp.dirname(tiny_h36m_file)}'])
    runs = summary['runs']
    assert list(runs) == ['fp32-sdpa', 'ort-fp32', 'int8']
    ref = runs['fp32-sdpa']['metrics']['lift/mpjpe']
    assert 0 < ref < 1000 and runs['fp32-sdpa']['deviation_from_fp32_mm'] == 0
    assert runs['ort-fp32']['metrics']['lift/mpjpe'] == pytest.approx(ref, abs=1e-3)
    assert runs['ort-fp32']['deviation_from_fp32_mm'] < 1e-2
    assert runs['int8']['deviation_from_fp32_mm'] > 0.01   # quantised: measurably off
    saved = json.loads((out / 'precision.json').read_text())
    assert saved['max_clips'] == 4 and 'first 4 test clips' in saved['clips']
    md = (out / 'precision.md').read_text()
    assert '| ort-fp32 | onnxruntime fp32 |' in md and '--max-clips 4' in md


def test_onednn_backend_equals_fp32_with_packed_linears_and_fused_gelu():
    from dualpose.deploy.onednn import PackedLinear, onednn_available
    if not onednn_available():
        pytest.skip('this torch build has no oneDNN linear kernels')
    ref = init_model(TINY_CONFIG, DEMO_CKPT)
    fast = init_model(TINY_CONFIG, DEMO_CKPT, backend='onednn')
    copy = fast.deploy_backend.module
    packed = [m for m in copy.modules() if isinstance(m, PackedLinear)]
    # every linear layer but the adaptive fusion gates (4, read in slices)
    assert len(packed) == sum(isinstance(m, torch.nn.Linear) for m in ref.modules()) - 4
    assert {m.activation for m in packed} == {'none', 'gelu'}
    assert not any(isinstance(m, PackedLinear) for m in fast.modules())  # the model is as was
    kp, scores, size = walking()
    a = inference_lifting(ref, kp, size, scores, converter='coco17').keypoints_3d
    b = inference_lifting(fast, kp, size, scores, converter='coco17').keypoints_3d
    assert _deviation(a, b) < 1e-5
    with pytest.raises(ValueError, match="backend='onednn' runs the torch model in fp32"):
        init_model(TINY_CONFIG, DEMO_CKPT, backend='onednn', precision='int8')


def test_onednn_backend_falls_back_to_fp32_with_one_log_line(monkeypatch):
    from dualpose.deploy import onednn
    lines = []
    monkeypatch.setattr(onednn, 'onednn_available', lambda: False)
    monkeypatch.setattr(onednn, '_log', lines.append)
    model = init_model(TINY_CONFIG, DEMO_CKPT, backend='onednn')
    assert model.deploy_backend is None
    assert lines == ["backend='onednn' asked for, but this torch build has no oneDNN linear "
                     'kernels: running torch fp32 instead']
