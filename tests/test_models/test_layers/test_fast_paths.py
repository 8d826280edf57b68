"""Each fast path agrees with the readable reference beside it, in values and gradients."""
import pytest
import torch
from einops import rearrange

from dualpose.models.layers import (AdaptiveFusion, MetaFormerBlock, Mlp, SkeletonGraphConv,
                                    SpatialAttention, TemporalAttention)
from dualpose.ops.attention import attention_math, resolve_attn_impl, scaled_dot_product
from tests.conftest import H36M_LINKS


def _grads(module, x, fn=None):
    """Output and gradients (input first, then parameters) of a random projection."""
    module.zero_grad()
    x = x.clone().requires_grad_()
    out = (fn or module)(x)
    torch.manual_seed(123)
    out.backward(torch.randn_like(out))
    return [out.detach(), x.grad] + [p.grad.clone() for p in module.parameters()
                                     if p.grad is not None]


def _assert_all_close(a, b, **tol):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v, **tol)


@pytest.mark.parametrize('cls', [SpatialAttention, TemporalAttention])
@pytest.mark.parametrize('b', [1, 2])
def test_attention_impls_agree_with_grads(cls, b):
    torch.manual_seed(0)
    ref = cls(16, num_heads=4, attn_impl='math').train()
    fast = cls(16, num_heads=4, attn_impl='sdpa').train()
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(b, 11, 17, 16)
    _assert_all_close(_grads(fast, x), _grads(ref, x), rtol=1e-4, atol=1e-5)


def test_temporal_attention_layout_equals_per_joint_sequences():
    """The (B, T, J, C) -> (B*J, H, T, D) handling equals running plain self-attention on each
    joint's sequence of frames."""
    torch.manual_seed(0)
    attn = TemporalAttention(16, num_heads=4).eval()
    x = torch.randn(3, 10, 5, 16)
    seqs = rearrange(x, 'b t j c -> (b j) t c')
    naive = rearrange(attn.__class__.__mro__[1].forward(attn, seqs), '(b j) t c -> b t j c', b=3)
    torch.testing.assert_close(attn(x), naive, rtol=1e-5, atol=1e-6)


def test_attention_scale_folding_matches_product():
    torch.manual_seed(0)
    attn = TemporalAttention(16, num_heads=4)
    scale = torch.rand(16)
    x = torch.randn(2, 9, 5, 16)
    torch.testing.assert_close(attn(x, out_scale=scale), scale * attn(x), rtol=1e-5, atol=1e-6)


def test_attn_impl_and_legacy_use_sdpa():
    assert resolve_attn_impl(None, None) == 'sdpa'
    assert resolve_attn_impl(None, True) == 'sdpa'
    assert resolve_attn_impl(None, False) == 'math'
    assert resolve_attn_impl('fused', None) == 'fused'
    assert resolve_attn_impl('math', False) == 'math'
    with pytest.raises(ValueError, match='contradicts'):
        resolve_attn_impl('math', True)
    with pytest.raises(ValueError, match='attn_impl must be one of'):
        resolve_attn_impl('flash', None)
    attn = SpatialAttention(8, num_heads=2, use_sdpa=False)
    assert attn.attn_impl == 'math' and attn.use_sdpa is False
    with pytest.raises(ValueError, match='attn_impl must be one of'):
        scaled_dot_product(*torch.randn(3, 1, 2, 4, 8), impl='nope')


def test_attention_dropout_only_in_training():
    q, k, v = torch.randn(3, 2, 4, 6, 8)
    torch.testing.assert_close(scaled_dot_product(q, k, v, 'math', 0.5, training=False),
                               attention_math(q, k, v))


@pytest.mark.parametrize('recompute', [True, False])
def test_mlp_activation_recompute_matches_reference(recompute):
    torch.manual_seed(0)
    ref = Mlp(8, recompute_act=False)
    fast = Mlp(8, recompute_act=recompute)
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(2, 5, 3, 8)
    _assert_all_close(_grads(fast, x), _grads(ref, x), rtol=1e-5, atol=1e-6)
    scale = torch.rand(8)
    torch.testing.assert_close(fast(x, out_scale=scale), scale * ref(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('approximate', ['none', 'tanh'])
def test_mlp_in_place_gelu_without_autograd_matches_reference(approximate):
    """Without autograd the MLP applies GELU in place on its own hidden activation; the
    result equals the out-of-place module chain, and the input is left alone."""
    torch.manual_seed(0)
    mlp = Mlp(8)
    mlp.act = torch.nn.GELU(approximate=approximate)
    x = torch.randn(2, 5, 3, 8)
    x_before = x.clone()
    ref = mlp.fc2(mlp.act(mlp.fc1(x)))
    with torch.no_grad():
        out = mlp(x)
    with torch.inference_mode():
        out_inference = mlp(x)
    torch.testing.assert_close(out, ref.detach(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(out_inference, ref.detach(), rtol=1e-6, atol=1e-6)
    assert torch.equal(x, x_before)


def test_mlp_recompute_keeps_one_hidden_activation_fewer():
    """The point of the recompute: the GELU output is not kept for the backward."""
    torch.manual_seed(0)
    sizes = {}
    for recompute in (False, True):
        mlp = Mlp(16, recompute_act=recompute)
        saved = {}

        def pack(t):
            saved[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            mlp(torch.randn(4, 50, 16, requires_grad=True))
        sizes[recompute] = sum(saved.values())
    hidden_bytes = 4 * 50 * 64 * 4
    assert sizes[False] - sizes[True] >= hidden_bytes


def test_mlp_recompute_under_bf16_autocast():
    torch.manual_seed(0)
    ref, fast = Mlp(8, recompute_act=False), Mlp(8, recompute_act=True)
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(2, 7, 8)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        a, b = _grads(fast, x), _grads(ref, x)
    assert a[0].dtype == b[0].dtype
    _assert_all_close(a, b, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize('mixer', ['attention', 'gcn'])
def test_metaformer_layer_scale_folding_matches_reference(mixer):
    torch.manual_seed(0)

    def make(fold):
        torch.manual_seed(0)
        m = (TemporalAttention(8, num_heads=2) if mixer == 'attention'
             else SkeletonGraphConv(8, [(0, 1), (1, 2)], num_joints=3))
        blk = MetaFormerBlock(8, m, layer_scale_init=0.3, fold_layer_scale=fold)
        with torch.no_grad():  # distinct per-channel scales
            blk.ls1.mul_(torch.linspace(0.5, 2, 8))
            blk.ls2.mul_(torch.linspace(2, 0.5, 8))
        return blk

    fast, ref = make(True), make(False)
    for mod in ref.mlp.modules():
        if isinstance(mod, Mlp):
            mod.recompute_act = False
    x = torch.randn(2, 6, 3, 8)
    _assert_all_close(_grads(fast, x), _grads(ref, x), rtol=1e-5, atol=1e-6)


def test_adaptive_fusion_fast_matches_reference():
    torch.manual_seed(0)
    for s in (2, 3):
        fusion = AdaptiveFusion(8, num_streams=s)
        torch.nn.init.normal_(fusion.fc.weight)
        torch.nn.init.normal_(fusion.fc.bias)
        xs = [torch.randn(2, 4, 3, 8) for _ in range(s)]
        torch.testing.assert_close(fusion(xs), fusion.forward_reference(xs),
                                   rtol=1e-5, atol=1e-6)
        ga = _grads(fusion, xs[0], lambda x: fusion([x] + xs[1:]))
        gb = _grads(fusion, xs[0], lambda x: fusion.forward_reference([x] + xs[1:]))
        _assert_all_close(ga, gb, rtol=1e-5, atol=1e-6)


def test_skeleton_aggregation_matches_dense_einsum():
    torch.manual_seed(0)
    gcn = SkeletonGraphConv(4, H36M_LINKS, num_joints=17)
    v = torch.randn(2, 5, 17, 4)
    torch.testing.assert_close(gcn.aggregate(v, v), torch.einsum('ij,btjc->btic', gcn.adj, v))


def test_attn_impl_from_a_partial_stream_config(h36m_info):
    from dualpose.models.backbones import DualStreamFormer
    net = DualStreamFormer(h36m_info['skeleton_links'], 17,
                           arch=dict(embed_dims=16, depth=1, num_heads=2),
                           transformer_stream=dict(attn_impl='math'))
    impls = {m.attn_impl for m in net.modules() if hasattr(m, 'attn_impl')}
    assert impls == {'math'}


@pytest.mark.parametrize('t', [1, 5, 300])
def test_any_sequence_length(h36m_info, t):
    from dualpose.models.backbones import DualStreamFormer
    for graph in ('banded', 'knn'):
        net = DualStreamFormer(h36m_info['skeleton_links'], 17,
                               arch=dict(embed_dims=8, depth=1, num_heads=2),
                               gcn_stream=dict(temporal_graph=graph)).eval()
        with torch.no_grad():
            assert net(torch.randn(1, t, 17, 3)).shape == (1, t, 17, 8)
