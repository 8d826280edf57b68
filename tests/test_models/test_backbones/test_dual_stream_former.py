import pytest
import torch

from dualpose.models.backbones import DualStreamFormer, FrameMLP
from dualpose.models.streams import GCNStream, TransformerStream
from dualpose.models.layers import MeanFusion
from tests.conftest import H36M_LINKS

TINY = dict(embed_dims=16, depth=2, num_heads=4)


@pytest.mark.parametrize('t', [1, 5, 27])
@pytest.mark.parametrize('graph', ['banded', 'knn'])
def test_any_sequence_length(t, graph):
    model = DualStreamFormer(H36M_LINKS, 17, arch=TINY,
                             gcn_stream=dict(type='GCNStream', temporal_graph=graph))
    out = model(torch.randn(2, t, 17, 3))
    assert out.shape == (2, t, 17, 16)
    assert torch.isfinite(out).all()


def test_any_joint_set():
    links = [(0, 1), (1, 2), (1, 3), (3, 4)]  # a 5-joint toy skeleton
    model = DualStreamFormer(links, 5, arch=TINY)
    assert model(torch.randn(1, 4, 5, 3)).shape == (1, 4, 5, 16)
    with pytest.raises(ValueError, match=r'J=5'):
        model(torch.randn(1, 4, 17, 3))


def test_named_sizes_and_variants():
    counts = {a: sum(p.numel() for p in DualStreamFormer(H36M_LINKS, 17, arch=a).parameters())
              for a in ('xs', 'b')}
    assert counts['xs'] < counts['b']
    m = DualStreamFormer(H36M_LINKS, 17, arch='xs')
    assert m.embed_dims == 64 and len(m.blocks) == 12
    assert len(m.blocks[0].streams) == 2
    tr = DualStreamFormer(H36M_LINKS, 17, arch=TINY, streams=('transformer', ))
    gcn = DualStreamFormer(H36M_LINKS, 17, arch=TINY, streams=('gcn', ))
    assert isinstance(tr.blocks[0].streams[0], TransformerStream) and tr.blocks[0].fusion is None
    assert isinstance(gcn.blocks[0].streams[0], GCNStream) and gcn.blocks[0].fusion is None
    mean = DualStreamFormer(H36M_LINKS, 17, arch=TINY, fusion=dict(type='MeanFusion'))
    assert isinstance(mean.blocks[0].fusion, MeanFusion)
    with pytest.raises(ValueError, match='streams'):
        DualStreamFormer(H36M_LINKS, 17, arch=TINY, streams=('lstm', ))
    with pytest.raises(KeyError, match='unknown arch'):
        DualStreamFormer(H36M_LINKS, 17, arch='huge')


def test_return_layers_and_temporal_embedding():
    model = DualStreamFormer(H36M_LINKS, 17, arch=TINY, temporal_pos_embed=True, max_frames=9)
    out, layers = model(torch.randn(1, 9, 17, 3), return_layers=True)
    assert len(layers) == 2 and layers[-1].shape == out.shape
    with pytest.raises(ValueError, match='max_frames'):
        model(torch.randn(1, 10, 17, 3))


def test_fusion_init_is_half_half():
    model = DualStreamFormer(H36M_LINKS, 17, arch=TINY)
    fc = model.blocks[0].fusion.fc
    assert fc.weight.abs().sum() == 0 and fc.bias.abs().sum() == 0


def test_no_batchnorm_anywhere():
    model = DualStreamFormer(H36M_LINKS, 17, arch=TINY)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_gradients_reach_every_parameter():
    model = DualStreamFormer(H36M_LINKS, 17, arch=TINY, layer_scale_init=1.0)
    model(torch.randn(2, 6, 17, 3)).pow(2).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_frame_mlp_has_no_temporal_context():
    torch.manual_seed(0)
    mlp = FrameMLP(17, embed_dims=8, hidden_dims=32).eval()
    x = torch.randn(1, 4, 17, 3)
    x2 = x.clone()
    x2[0, 1] += 1
    changed = (mlp(x2) - mlp(x)).abs().amax(dim=(0, 2, 3)) > 1e-7
    assert changed.tolist() == [False, True, False, False]
