"""The optional fused CUDA attention: fallback selection, log lines, build-missing path (CPU)
and agreement with the reference math (GPU only; skipped without one). The CPU kernel has
its own tests, tests/test_ops/test_cpu_attention.py."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

import dualpose.ops.attention as fa
from dualpose.models.layers import TemporalAttention
from dualpose.ops.attention import attention_math

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')


@pytest.fixture
def fresh_build(monkeypatch):
    monkeypatch.setattr(fa._BuildState, 'tried', False)
    monkeypatch.setattr(fa._BuildState, 'module', None)
    monkeypatch.setattr(fa._BuildState, 'error', None)


@pytest.mark.parametrize('n', [1, 17, 31, 32, 33, 70])
@pytest.mark.parametrize('d', [16, 64])
def test_kernel_algorithm_matches_reference(n, d):
    """The tiled online softmax the kernel runs, in PyTorch, equals the reference."""
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 3, n, d)
    torch.testing.assert_close(fa.tiled_online_softmax_reference(q, k, v),
                               attention_math(q, k, v), rtol=1e-5, atol=1e-5)


def test_cpu_inputs_never_reach_the_cuda_path(log_lines):
    """CPU tensors go to the CPU kernel or to SDPA (tests/test_ops/test_cpu_attention.py),
    never to the CUDA selection; a case the CPU kernel cannot take is logged once."""
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 4, 9, 8, dtype=torch.float64).unbind(0)
    out = fa.fused_attention(q, k, v)
    fa.fused_attention(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    sdpa = [m for m in log_lines if 'runs PyTorch scaled_dot_product_attention' in m]
    assert len(sdpa) == 1 and 'dtype torch.float64' in sdpa[0]
    assert not any('CUDA' in m for m in log_lines)


def test_cpu_inputs_do_not_trigger_a_build(monkeypatch, fresh_build):
    def boom():
        raise AssertionError('must not compile for CPU inputs')
    monkeypatch.setattr(fa, '_compile_extension', boom)
    q = torch.randn(1, 1, 5, 4)
    fa.fused_attention(q, q, q)
    assert fa._BuildState.tried is False


def test_no_cuda_means_no_build(monkeypatch, fresh_build):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(fa, '_compile_extension',
                        lambda: pytest.fail('must not compile without CUDA'))
    assert fa.load_extension() is None
    assert fa.build_error() == 'CUDA is not available'
    ok, msg = fa.fused_attention_status('cuda')
    assert not ok and msg == 'CUDA is not available: PyTorch SDPA runs instead'


def test_failed_build_is_reported_tried_once_and_falls_back(monkeypatch, fresh_build, log_lines):
    calls = []

    def failing_build():
        calls.append(1)
        raise RuntimeError('Error building extension: nvcc not found\nmore detail')

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(fa, '_compile_extension', failing_build)
    # stand-ins for CUDA tensors: the selection reads device, shape and dtype only
    fake = SimpleNamespace(is_cuda=True, shape=torch.Size([2, 17, 16]), dtype=torch.float32)
    reason = fa.unsupported_reason(fake, fake, fake)
    assert reason == 'the build failed (RuntimeError: Error building extension: nvcc not found)'
    assert fa.unsupported_reason(fake, fake, fake) == reason
    assert len(calls) == 1  # tried once per process
    ok, msg = fa.fused_attention_status('cuda')
    assert not ok and 'nvcc not found' in msg

    # the attention call then runs SDPA and says why, once ('meta' tensors stand in for
    # CUDA ones: not CPU, so they take the CUDA selection)
    monkeypatch.setattr(fa, 'unsupported_reason', lambda *a, **k: reason)
    q, k, v = torch.randn(3, 1, 2, 6, 4, device='meta')
    assert fa.fused_attention(q, k, v).shape == q.shape
    fa.fused_attention(q, k, v)
    assert sum('nvcc not found' in m for m in log_lines) == 1


@pytest.mark.parametrize('kwargs, expected', [
    (dict(shape=torch.Size([2, 9, 80])), 'head dim 80 > 64'),
    (dict(dtype=torch.float64), 'dtype torch.float64'),
])
def test_unsupported_inputs_are_named(kwargs, expected, monkeypatch, fresh_build):
    monkeypatch.setattr(fa, 'load_extension', lambda: object())
    base = dict(is_cuda=True, shape=torch.Size([2, 9, 16]), dtype=torch.float32)
    fake = SimpleNamespace(**{**base, **kwargs})
    assert expected in fa.unsupported_reason(fake, fake, fake)
    ok = SimpleNamespace(**base)
    assert fa.unsupported_reason(ok, ok, ok) is None
    assert 'dropout' in fa.unsupported_reason(ok, ok, ok, dropout_p=0.1)


def test_attention_module_with_fused_impl_runs_on_cpu(log_lines):
    torch.manual_seed(0)
    fused = TemporalAttention(24, num_heads=4, attn_impl='fused').eval()
    ref = TemporalAttention(24, num_heads=4, attn_impl='math').eval()
    ref.load_state_dict(fused.state_dict())
    x = torch.randn(2, 12, 5, 24)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), ref(x), rtol=1e-5, atol=1e-6)
    # head dim 6: no CPU kernel for it, so SDPA runs and the log says why
    assert any('head dim 6 is not one of' in m for m in log_lines)


# ---------------------------------------------------------------- GPU: the kernel itself
@requires_cuda
@pytest.mark.parametrize('shape', [
    (17 * 8, 243, 16),   # temporal attention of the B model, batch 1: (B*J*H, T, D)
    (243 * 8, 17, 16),   # spatial attention of the B model, batch 1: (B*T*H, J, D)
    (4, 1, 8), (3, 33, 64), (2, 300, 40), (5, 32, 1),
])
@pytest.mark.parametrize('dtype, tol', [(torch.float32, 1e-5), (torch.bfloat16, 2e-2),
                                        (torch.float16, 2e-3)])
def test_kernel_matches_reference_on_gpu(shape, dtype, tol, log_lines):
    torch.manual_seed(0)
    q, k, v = (torch.randn(*shape, device='cuda').to(dtype) for _ in range(3))
    ref = attention_math(q.double(), k.double(), v.double())  # same (rounded) inputs
    out = fa.fused_attention(q, k, v)
    assert out.dtype == dtype and out.shape == q.shape
    torch.testing.assert_close(out.double(), ref, rtol=tol, atol=tol)
    assert any('runs the CUDA kernel' in m for m in log_lines), log_lines


@requires_cuda
def test_kernel_gradients_match_reference_on_gpu():
    torch.manual_seed(0)
    base = [torch.randn(2, 8, 50, 16, device='cuda') for _ in range(3)]
    grads = []
    for fn in (fa.fused_attention, attention_math):
        inputs = [t.clone().requires_grad_() for t in base]
        out = fn(*inputs)
        out.backward(torch.ones_like(out))
        grads.append([out.detach()] + [t.grad for t in inputs])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@requires_cuda
def test_attention_module_fused_matches_sdpa_on_gpu():
    torch.manual_seed(0)
    fused = TemporalAttention(128, num_heads=8, attn_impl='fused').cuda().eval()
    ref = TemporalAttention(128, num_heads=8, attn_impl='sdpa').cuda().eval()
    ref.load_state_dict(fused.state_dict())
    x = torch.randn(2, 243, 17, 128, device='cuda')
    with torch.no_grad():
        torch.testing.assert_close(fused(x), ref(x), rtol=1e-4, atol=1e-4)
