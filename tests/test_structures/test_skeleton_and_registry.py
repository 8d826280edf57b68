import pytest
import torch
from mmengine.registry import DefaultScope

from dualpose.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from dualpose.structures.skeleton import build_flip_indices, parse_metainfo


def test_parse_metainfo_derives_flip_indices(h36m_info):
    info = parse_metainfo(h36m_info)
    assert info['num_joints'] == 17
    assert info['flip_indices'][1] == 4 and info['flip_indices'][16] == 13
    assert info['flip_indices'][0] == 0 and info['flip_indices'][10] == 10


def test_parse_metainfo_errors(h36m_info):
    bad = dict(h36m_info)
    del bad['flip_pairs']
    with pytest.raises(KeyError, match='flip_pairs'):
        parse_metainfo(bad)
    with pytest.raises(ValueError, match=r'link \(0, 17\)'):
        parse_metainfo(dict(h36m_info, skeleton_links=[(0, 17)]))
    with pytest.raises(ValueError, match='num_joints=16'):
        parse_metainfo(dict(h36m_info, num_joints=16))
    with pytest.raises(ValueError, match='out of range'):
        build_flip_indices([(0, 20)], 17)


def test_registries_find_components_in_dualpose_scope():
    assert DefaultScope.get_current_instance().scope_name == 'dualpose'
    for registry, name in [(MODELS, 'DualStreamFormer'), (MODELS, 'PoseLifter'),
                           (MODELS, 'AdaptiveFusion'), (MODELS, 'MPJPELoss'),
                           (DATASETS, 'Human36mDataset'), (TRANSFORMS, 'NormalizeScreen'),
                           (METRICS, 'PoseLiftingMetric')]:
        assert registry.get(name) is not None, name


def test_checkpoint_loader_reads_mmengine_style_checkpoint(tmp_path):
    """torch>=2.6 defaults to weights_only=True; mmengine checkpoints pickle numpy arrays and
    HistoryBuffers. The package's compat fix must load them."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from mmengine.runner import CheckpointLoader
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {'arr': np.arange(3)},
                'message_hub': {'h': HistoryBuffer()}}, path)
    ckpt = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert ckpt['meta']['arr'].tolist() == [0, 1, 2]
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(RuntimeError, match='ckpt.pth.*truncated'):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')


def test_autocast_optim_wrapper_runs_bf16_on_cpu():
    from dualpose.registry import OPTIM_WRAPPERS
    model = torch.nn.Linear(4, 4)
    wrapper = OPTIM_WRAPPERS.build(dict(
        type='AutocastOptimWrapper', optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(before, model.weight)
