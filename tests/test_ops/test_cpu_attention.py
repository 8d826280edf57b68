"""The CPU attention kernel behind ``attn_impl='fused'`` on CPU tensors, in both of its builds
(AVX-512 and AVX2): agreement with the float64 reference on the model's shapes and the
awkward ones, layouts, routing to SDPA, the choice of build, and the build's failure paths.
Each kernel test runs once per build the machine can run and skips the others (no AVX-512,
no AVX2, no C++ compiler); the fallback tests run everywhere."""
import os

import pytest
import torch
import torch.nn.functional as F

import dualpose.ops.attention as fa
import dualpose.ops.cpu_attention as ca
from dualpose.models.layers import SpatialAttention, TemporalAttention
from dualpose.ops.attention import attention_math


_BUILDS = {}


@pytest.fixture(params=list(ca.ISA_FLAGS))
def needs_kernel(request, monkeypatch):
    """The kernel of one instruction set (each test runs once per build), as the process's
    loaded kernel; skipped where the CPU cannot run that build or it cannot be built (no
    compiler). Each build is compiled once per process, in the test's extension folder
    (conftest)."""
    isa = request.param
    if isa not in ca.supported_isas():
        pytest.skip(f'the CPU has no {ca.ISA_NAMES[isa]} '
                    f'(capability {torch.backends.cpu.get_cpu_capability()})')
    if isa not in _BUILDS:
        try:
            _BUILDS[isa] = ca.build_cpu_kernel(isa)
        except (RuntimeError, OSError) as err:
            _BUILDS[isa] = err
    if isinstance(_BUILDS[isa], Exception):
        pytest.skip(f'CPU kernel {isa} unavailable: {_BUILDS[isa]}')
    monkeypatch.setattr(ca._CpuBuild, 'tried', True)
    monkeypatch.setattr(ca._CpuBuild, 'lib', _BUILDS[isa])
    monkeypatch.setattr(ca._CpuBuild, 'isa', isa)
    monkeypatch.setattr(ca._CpuBuild, 'error', None)
    return isa


@pytest.fixture
def fresh_cpu_build(monkeypatch):
    monkeypatch.setattr(ca._CpuBuild, 'tried', False)
    monkeypatch.setattr(ca._CpuBuild, 'lib', None)
    monkeypatch.setattr(ca._CpuBuild, 'isa', None)
    monkeypatch.setattr(ca._CpuBuild, 'error', None)


def _reference(q, k, v):
    return attention_math(q.double(), k.double(), v.double())


@pytest.mark.usefixtures('needs_kernel')
@pytest.mark.parametrize('d', [4, 8, 16, 32, 64])
@pytest.mark.parametrize('lq, lk', [(1, 1), (17, 17), (15, 15), (16, 16), (33, 33),
                                    (5, 40), (40, 3), (9, 8), (24, 24), (31, 31), (32, 32)])
def test_kernel_matches_float64_reference(d, lq, lk):
    torch.manual_seed(lq * 100 + lk + d)
    q = torch.randn(2, 3, lq, d)
    k, v = torch.randn(2, 2, 3, lk, d).unbind(0)
    out = ca.cpu_attention(q, k, v)
    assert out.shape == q.shape and out.dtype == torch.float32
    torch.testing.assert_close(out.double(), _reference(q, k, v), rtol=2e-6, atol=2e-6)


@pytest.mark.usefixtures('needs_kernel')
@pytest.mark.parametrize('name, shape', [('temporal', (17, 8, 243, 16)),
                                         ('spatial', (243, 8, 17, 16))])
def test_kernel_on_the_b_model_shapes(name, shape):
    torch.manual_seed(0)
    q, k, v = torch.randn(3, *shape).unbind(0)
    torch.testing.assert_close(ca.cpu_attention(q, k, v).double(), _reference(q, k, v),
                               rtol=2e-6, atol=2e-6)


@pytest.mark.usefixtures('needs_kernel')
def test_strided_views_and_output_layout():
    """The model hands over views of its (tokens, 3, H, D) projection; the result lives in
    (B, N, H, D) memory so the merge of the heads afterwards is a view."""
    torch.manual_seed(0)
    qkv = torch.randn(30, 17, 3, 4, 16)  # (B, N, 3, H, D)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, H, N, D), strided
    out = ca.cpu_attention(q, k, v)
    torch.testing.assert_close(out.double(), _reference(q, k, v), rtol=2e-6, atol=2e-6)
    assert out.transpose(1, 2).is_contiguous()
    # a non-unit stride along D is copied first; 3-D inputs are one head
    qt = torch.randn(5, 2, 16, 2)[..., 0]  # (5, 2, 16), stride 2 along D
    assert qt.stride(-1) == 2
    torch.testing.assert_close(ca.cpu_attention(qt, qt, qt).double(), _reference(qt, qt, qt),
                               rtol=2e-6, atol=2e-6)


@pytest.mark.usefixtures('needs_kernel')
def test_large_scores_do_not_overflow_and_nan_stays_in_its_row():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 2, 20, 16).unbind(0)
    q = q * 40  # scores in the hundreds: exp would overflow without the row max
    out = ca.cpu_attention(q, k, v)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out.double(), _reference(q, k, v), rtol=1e-5, atol=1e-5)
    q[0, 1, 7, 3] = float('nan')
    out = ca.cpu_attention(q, k, v)
    assert torch.isnan(out[0, 1, 7]).all()
    mask = torch.ones(out.shape[:-1], dtype=torch.bool)
    mask[0, 1, 7] = False
    torch.testing.assert_close(out[mask].double(), _reference(q, k, v)[mask],
                               rtol=1e-5, atol=1e-5)


@pytest.mark.usefixtures('needs_kernel')
def test_thread_count_does_not_change_the_result():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 5, 4, 50, 16).unbind(0)
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = ca.cpu_attention(q, k, v)
        torch.set_num_threads(2)
        two = ca.cpu_attention(q, k, v)
    finally:
        torch.set_num_threads(saved)
    assert torch.equal(one, two)


@pytest.mark.usefixtures('needs_kernel')
@pytest.mark.parametrize('cls', [SpatialAttention, TemporalAttention])
def test_attention_modules_run_the_kernel_in_eval_and_in_training(cls, log_lines, needs_kernel):
    torch.manual_seed(0)
    fused = cls(64, num_heads=4, attn_impl='fused')
    ref = cls(64, num_heads=4, attn_impl='math')
    ref.load_state_dict(fused.state_dict())
    x = torch.randn(1, 24, 17, 64)
    with torch.no_grad():
        torch.testing.assert_close(fused.eval()(x), ref.eval()(x), rtol=1e-5, atol=1e-5)
    # training: autograd records, the kernel's backward runs; gradients are the reference's
    xs = [x.clone().requires_grad_() for _ in range(2)]
    outs = [m.train()(xi) for m, xi in zip((fused, ref), xs)]
    for o in outs:
        o.square().sum().backward()
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(xs[0].grad, xs[1].grad, rtol=1e-4, atol=1e-5)
    for (name, p), p_ref in zip(fused.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, p_ref.grad, rtol=1e-4, atol=1e-5, msg=name)
    assert sum('runs the CPU kernel dualpose_cpu_attention' in m for m in log_lines) == 1
    assert any(f'({ca.ISA_NAMES[needs_kernel]}, float32' in m for m in log_lines)
    assert not any('scaled_dot_product_attention' in m for m in log_lines)


@pytest.mark.usefixtures('needs_kernel')
@pytest.mark.parametrize('d', [8, 16, 32, 64])
@pytest.mark.parametrize('lq, lk', [(1, 1), (17, 17), (5, 40), (40, 3), (70, 70), (24, 24),
                                    (9, 8)])
def test_backward_matches_float64_reference(d, lq, lk):
    """The kernel's backward (p recomputed from the saved log-sum-exp) against autograd
    through the float64 math, for q, k and v."""
    torch.manual_seed(lq * 100 + lk + d)
    q64 = torch.randn(2, 3, lq, d, dtype=torch.float64)
    k64, v64 = torch.randn(2, 2, 3, lk, d, dtype=torch.float64).unbind(0)
    grad = torch.randn(2, 3, lq, d, dtype=torch.float64)
    ref_in = [t.clone().requires_grad_() for t in (q64, k64, v64)]
    attention_math(*ref_in).backward(grad)
    ins = [t.float().requires_grad_() for t in (q64, k64, v64)]
    out = ca.cpu_attention(*ins)
    assert out.grad_fn is not None and 'CpuAttentionFunction' in type(out.grad_fn).__name__
    out.backward(grad.float())
    for name, a, b in zip('qkv', ins, ref_in):
        torch.testing.assert_close(a.grad.double(), b.grad, rtol=1e-5, atol=5e-6, msg=name)


@pytest.mark.usefixtures('needs_kernel')
def test_backward_of_strided_views_and_threads():
    """Gradients through the model's strided views of one projection, with a strided output
    gradient; 1 and 2 threads agree bitwise."""
    torch.manual_seed(0)
    grads = []
    saved = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            torch.manual_seed(0)
            qkv = torch.randn(6, 50, 3, 4, 16, requires_grad=True)  # (B, N, 3, H, D)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
            go = torch.randn(6, 50, 4, 16).transpose(1, 2)  # strided, like the model's
            ca.cpu_attention(q, k, v).backward(go)
            ref_qkv = qkv.detach().double().requires_grad_()
            attention_math(*ref_qkv.permute(2, 0, 3, 1, 4).unbind(0)).backward(go.double())
            torch.testing.assert_close(qkv.grad.double(), ref_qkv.grad, rtol=1e-5, atol=5e-6)
            grads.append(qkv.grad)
    finally:
        torch.set_num_threads(saved)
    assert torch.equal(grads[0], grads[1])


@pytest.mark.parametrize('make, expected', [
    (lambda: torch.randn(3, 2, 2, 9, 16, dtype=torch.float64).unbind(0), 'dtype torch.float64'),
    (lambda: torch.randn(3, 2, 2, 9, 12).unbind(0), 'head dim 12'),
    (lambda: torch.randn(3, 2, 2, 2, 9, 16).unbind(0), 'rank 5'),
    (lambda: (torch.randn(2, 9, 16), torch.randn(2, 8, 16), torch.randn(2, 9, 16)),
     'shapes do not fit'),
])
def test_inputs_the_kernel_cannot_take_are_named_and_run_sdpa(make, expected, log_lines):
    q, k, v = make()
    assert expected in ca.cpu_unsupported_reason(q, k, v)
    if k.shape == v.shape:
        torch.testing.assert_close(fa.fused_attention(q, k, v),
                                   F.scaled_dot_product_attention(q, k, v))
        assert sum(expected in m for m in log_lines) == 1


def test_dropout_and_missing_backward_are_named():
    q = torch.randn(1, 2, 5, 16)
    assert 'dropout' in ca.cpu_unsupported_reason(q, q, q, dropout_p=0.1)
    q4 = torch.randn(1, 2, 5, 4)
    qg = q4.clone().requires_grad_()
    assert ca.cpu_unsupported_reason(qg, q4, q4) == ca.NO_BACKWARD_REASON
    with torch.no_grad():  # nothing recorded: the forward for head dim 4 may run
        assert ca.cpu_unsupported_reason(qg, q4, q4) in (None, ca.cpu_build_error())


def test_missing_compiler_is_reported_tried_once_and_falls_back(monkeypatch, fresh_cpu_build,
                                                                log_lines):
    monkeypatch.setenv('CXX', 'no-such-compiler-dualpose')
    q, k, v = torch.randn(3, 1, 2, 6, 16).unbind(0)
    assert ca.load_cpu_kernel() is None
    assert 'no-such-compiler-dualpose is not on PATH' in ca.cpu_build_error()
    assert ca.cpu_unsupported_reason(q, k, v) == ca.cpu_build_error()
    torch.testing.assert_close(fa.fused_attention(q, k, v),
                               F.scaled_dot_product_attention(q, k, v))
    fa.fused_attention(q, k, v)
    warned = [m for m in log_lines if 'no-such-compiler-dualpose' in m]
    assert len(warned) == 1
    ok, msg = fa.fused_attention_status('cpu')
    assert not ok and 'PyTorch SDPA runs instead' in msg


def test_failed_compile_leaves_nothing_behind(monkeypatch, fresh_cpu_build, tmp_path):
    """A compiler that fails: the error names it, and no library (or temporary file) is left
    where the next process would load it."""
    fake = tmp_path / 'bin' / 'c++'
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "fatal: pretend compiler error" >&2\nexit 3\n')
    fake.chmod(0o755)
    monkeypatch.setenv('CXX', str(fake))
    out_dir = tmp_path / 'ext'
    monkeypatch.setenv('DUALPOSE_EXTENSIONS_DIR', str(out_dir))
    if torch.backends.cpu.get_cpu_capability() not in ('AVX2', 'AVX512'):
        pytest.skip('the build is not attempted without AVX2')
    assert ca.load_cpu_kernel() is None
    assert 'exited with 3: fatal: pretend compiler error' in ca.cpu_build_error()
    assert os.listdir(out_dir) == []


@pytest.mark.usefixtures('needs_kernel')
def test_build_is_cached_by_source_and_flags(monkeypatch, fresh_cpu_build, tmp_path):
    out_dir = tmp_path / 'ext'
    monkeypatch.setenv('DUALPOSE_EXTENSIONS_DIR', str(out_dir))
    assert ca.load_cpu_kernel() is not None
    built = os.listdir(out_dir)
    assert len(built) == 1 and built[0].startswith('dualpose_cpu_attention_')
    # a second process (fresh state) loads the cached library instead of compiling
    monkeypatch.setattr(ca._CpuBuild, 'tried', False)
    monkeypatch.setattr(ca, '_compile', lambda *a: pytest.fail('must load the cached build'))
    assert ca.load_cpu_kernel() is not None


def test_where_the_kernel_cannot_train_short_sequences_take_the_math(monkeypatch, log_lines):
    """Head dim 4 has no backward in the kernel: a training step runs the explicit math up
    to MATH_MAX_KEYS keys and SDPA beyond, and both give the reference's gradients."""
    calls = []
    real = F.scaled_dot_product_attention

    def counting_sdpa(*args, **kwargs):
        calls.append(args[1].shape[-2])
        return real(*args, **kwargs)

    monkeypatch.setattr(fa.F, 'scaled_dot_product_attention', counting_sdpa)
    for n in (17, fa.MATH_MAX_KEYS, fa.MATH_MAX_KEYS + 1):
        q, k, v = (torch.randn(2, 2, n, 4, requires_grad=True) for _ in range(3))
        out = fa.fused_attention(q, k, v)
        out.sum().backward()
        torch.testing.assert_close(out, attention_math(q, k, v), rtol=1e-5, atol=1e-6)
    assert calls == [fa.MATH_MAX_KEYS + 1]
    assert any('runs the explicit math on the CPU' in m for m in log_lines)


@pytest.mark.skipif(not ca.supported_isas(), reason='the CPU has no AVX2')
def test_the_widest_build_the_cpu_has_is_chosen_and_can_be_forced(monkeypatch):
    monkeypatch.delenv(ca.ISA_ENV, raising=False)
    have = ca.supported_isas()
    assert ca.cpu_isa() == have[0]
    assert ('avx512' in have) == (torch.backends.cpu.get_cpu_capability() == 'AVX512')
    monkeypatch.setenv(ca.ISA_ENV, 'avx2')
    assert ca.cpu_isa() == 'avx2'
    monkeypatch.setenv(ca.ISA_ENV, 'sse9')
    with pytest.raises(RuntimeError, match="DUALPOSE_CPU_ISA='sse9' is not one of"):
        ca.cpu_isa()


def test_a_build_the_cpu_cannot_run_is_refused(monkeypatch, fresh_cpu_build):
    """An AVX2-only CPU (as torch reports it) never loads the AVX-512 build, and forcing it
    names what the CPU has; the kernel is then unavailable and SDPA runs."""
    monkeypatch.setattr(torch.backends.cpu, 'get_cpu_capability', lambda: 'AVX2')
    assert ca.supported_isas() == ('avx2', )
    with pytest.raises(RuntimeError, match='cannot run the avx512 build'):
        ca.build_cpu_kernel('avx512')
    monkeypatch.setenv(ca.ISA_ENV, 'avx512')
    assert ca.load_cpu_kernel() is None
    assert 'DUALPOSE_CPU_ISA=avx512 but the CPU has avx2' in ca.cpu_build_error()


@pytest.mark.usefixtures('needs_kernel')
def test_the_loaded_build_reports_its_instruction_set(needs_kernel):
    assert ca.loaded_isa() == needs_kernel
    assert ca._CpuBuild.lib.dualpose_cpu_attention_isa() == ca._ISA_CODES[needs_kernel]


@pytest.mark.usefixtures('needs_kernel')
def test_bfloat16_inputs_are_computed_in_float32():
    """bf16 autocast hands the kernel bf16 tensors: they are computed in float32, the result
    comes back in bf16 with the (B, N, H, D) memory, and gradients flow to the bf16 inputs."""
    torch.manual_seed(0)
    q, k, v = (t.bfloat16() for t in torch.randn(3, 2, 4, 30, 16).unbind(0))
    assert ca.cpu_unsupported_reason(q, k, v) is None
    out = ca.cpu_attention(q, k, v)
    assert out.dtype == torch.bfloat16 and out.transpose(1, 2).is_contiguous()
    ref = _reference(q.float(), k.float(), v.float())
    torch.testing.assert_close(out.double(), ref, rtol=1e-2, atol=1e-2)  # bf16 rounding
    assert torch.equal(out, ca.cpu_attention(q.float(), k.float(), v.float()).bfloat16())
    qg = q.clone().requires_grad_()
    ca.cpu_attention(qg, k, v).float().sum().backward()
    assert qg.grad.dtype == torch.bfloat16 and torch.isfinite(qg.grad.float()).all()
    mixed = (q, k.float(), v)
    assert 'float32 or bfloat16' in ca.cpu_unsupported_reason(*mixed)
