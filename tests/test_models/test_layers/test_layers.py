import pytest
import torch

from dualpose.models.layers import (AdaptiveFusion, MeanFusion, SkeletonGraphConv,
                                    SpatialAttention, TemporalAttention, TemporalGraphConv)
from dualpose.models.layers.graph_conv import banded_adjacency
from dualpose.structures.skeleton import normalized_adjacency
from tests.conftest import H36M_LINKS


@pytest.mark.parametrize('cls', [SpatialAttention, TemporalAttention])
def test_sdpa_matches_explicit_math(cls):
    torch.manual_seed(0)
    fast = cls(16, num_heads=4, use_sdpa=True).eval()
    ref = cls(16, num_heads=4, use_sdpa=False).eval()
    ref.load_state_dict(fast.state_dict())
    x = torch.randn(2, 9, 17, 16)
    torch.testing.assert_close(fast(x), ref(x), rtol=1e-5, atol=1e-6)


def test_spatial_attention_mixes_joints_not_frames():
    torch.manual_seed(0)
    attn = SpatialAttention(8, num_heads=2).eval()
    x = torch.randn(1, 5, 6, 8)
    y = attn(x)
    x2 = x.clone()
    x2[0, 3] += 1.0  # change frame 3 only
    y2 = attn(x2)
    changed = (y2 - y).abs().amax(dim=(0, 2, 3)) > 1e-7
    assert changed.tolist() == [False, False, False, True, False]


def test_temporal_attention_mixes_frames_not_joints():
    torch.manual_seed(0)
    attn = TemporalAttention(8, num_heads=2).eval()
    x = torch.randn(1, 5, 6, 8)
    x2 = x.clone()
    x2[0, :, 2] += 1.0  # change joint 2 only
    changed = (attn(x2) - attn(x)).abs().amax(dim=(0, 1, 3)) > 1e-7
    assert changed.tolist() == [False, False, True, False, False, False]


def test_normalized_adjacency_values():
    adj = normalized_adjacency([(0, 1), (1, 2)], 4)
    # degrees 1, 2, 1, 0 -> A_hat[0,1] = 1/sqrt(2); isolated joint 3 gets a zero row
    assert adj[0, 1] == pytest.approx(2 ** -0.5)
    assert adj[1, 2] == pytest.approx(2 ** -0.5)
    assert adj[0, 0] == 0 and adj[3].abs().sum() == 0
    torch.testing.assert_close(adj, adj.T)


@pytest.mark.parametrize('t', [1, 2, 7, 30])
def test_banded_temporal_gcn_fast_matches_dense(t):
    torch.manual_seed(0)
    fast = TemporalGraphConv(8, mode='banded')
    dense = TemporalGraphConv(8, mode='banded', dense=True)
    dense.load_state_dict(fast.state_dict())
    x = torch.randn(2, t, 5, 8)
    torch.testing.assert_close(fast(x), dense(x), rtol=1e-5, atol=1e-6)


def test_banded_adjacency_is_chain():
    adj = banded_adjacency(4)
    nz = (adj > 0).nonzero().tolist()
    assert nz == [[0, 1], [1, 0], [1, 2], [2, 1], [2, 3], [3, 2]]


@pytest.mark.parametrize('knn_self', [True, False])
@pytest.mark.parametrize('t,k', [(2, 2), (9, 2), (20, 3)])
def test_knn_temporal_gcn_fast_matches_dense(t, k, knn_self):
    torch.manual_seed(0)
    fast = TemporalGraphConv(8, mode='knn', k=k, knn_self=knn_self)
    dense = TemporalGraphConv(8, mode='knn', k=k, dense=True, knn_self=knn_self)
    dense.load_state_dict(fast.state_dict())
    x = torch.randn(2, t, 5, 8)
    torch.testing.assert_close(fast(x), dense(x), rtol=1e-5, atol=1e-6)


def test_knn_neighbours_pick_most_similar_with_or_without_self():
    # frames 0 and 2 identical direction, frame 1 opposite: 0 <-> 2 are neighbours
    x = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [2.0, 0.0]]).view(1, 3, 1, 2)
    idx = TemporalGraphConv(2, mode='knn', k=1, knn_self=False)._knn_indices(x)[0, 0, :, 0]
    assert idx.tolist() == [2, 0, 0]  # frame 1's most similar other frame: 0 (-1 > -2)
    # with itself allowed (MotionAGFormer's), k=2: each frame's own dot product is among the
    # two largest, so every frame links to itself
    idx = TemporalGraphConv(2, mode='knn', k=2, knn_self=True)._knn_indices(x)[0, 0]
    assert [t in row.tolist() for t, row in enumerate(idx)] == [True, True, True]
    assert idx[0].tolist() == [2, 0] and idx[2].tolist() == [2, 0]


def test_skeleton_gcn_only_mixes_neighbours():
    torch.manual_seed(0)
    gcn = SkeletonGraphConv(4, [(0, 1), (1, 2)], num_joints=4)
    x = torch.randn(1, 3, 4, 4)
    x2 = x.clone()
    x2[..., 0, :] += 1.0
    changed = (gcn.aggregate(x2, gcn.V(x2)) - gcn.aggregate(x, gcn.V(x))).abs().amax(dim=(0, 1, 3))
    assert changed.gt(1e-7).tolist() == [False, True, False, False]


def test_skeleton_gcn_rejects_wrong_joint_count():
    gcn = SkeletonGraphConv(4, H36M_LINKS, num_joints=17)
    with pytest.raises(ValueError, match='17 joints'):
        gcn(torch.randn(1, 3, 16, 4))


def test_adaptive_fusion_starts_at_half_and_learns():
    fusion = AdaptiveFusion(4)
    a, b = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 5, 4)
    torch.testing.assert_close(fusion([a, b]), (a + b) / 2)
    torch.testing.assert_close(MeanFusion()([a, b]), (a + b) / 2)
    with torch.no_grad():
        fusion.fc.bias.copy_(torch.tensor([10.0, -10.0]))
    torch.testing.assert_close(fusion([a, b]), a, rtol=1e-4, atol=1e-4)
