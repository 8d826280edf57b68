"""ONNX export of the whole lifter: dynamic batch and frames equal to torch, the modules that
cannot export named, the metadata that ties a file to its config and weights."""
import os.path as osp

import numpy as np
import pytest
import torch

from tests.conftest import REPO_ROOT, load_tool
from tests.test_deploy.conftest import DEMO_CKPT, SMALL, TINY_CONFIG, small_model

pytest.importorskip('onnxruntime')
pytest.importorskip('onnx')

from dualpose.deploy import (ExportError, check_onnx_metadata, export_onnx,  # noqa: E402
                             ort_session, read_onnx_metadata)
from dualpose.registry import MODELS  # noqa: E402

SYN = osp.join(REPO_ROOT, 'configs/dualpose/synthetic')


def ort_outputs(path, x):
    return ort_session(path, threads=1).run(None, {'inputs': x.numpy()})


def assert_matches_torch(model, path, shapes, tol=1e-4):
    b = model.backbone
    gen = torch.Generator().manual_seed(1)
    for batch, frames in shapes:
        x = torch.randn(batch, frames, b.num_joints, b.in_channels, generator=gen)
        with torch.no_grad():
            pose, traj = model.heads_forward(x, True, 0)
        got = ort_outputs(path, x)
        assert got[0].shape == (batch, frames, b.num_joints, 3)
        np.testing.assert_allclose(got[0], pose.numpy(), rtol=0, atol=tol)
        if traj is not None:
            np.testing.assert_allclose(got[1], traj.numpy(), rtol=0, atol=tol)


def test_the_shipped_model_exports_with_dynamic_batch_and_frames(demo_onnx):
    """Several T (the trained 27, 81, 40, 5) and batch sizes, within 1e-4 of torch; the
    fused CPU kernel (a ctypes call, invisible to the tracer) was exported as SDPA."""
    import onnx
    from dualpose.apis import init_model
    path, meta = demo_onnx
    model = init_model(TINY_CONFIG, DEMO_CKPT,
                       cfg_options={'model.backbone.transformer_stream.attn_impl': 'fused'})
    assert_matches_torch(model, path, [(1, 27), (2, 81), (3, 40), (1, 5)])
    dims = [d.dim_param or d.dim_value for d in
            onnx.load(path).graph.input[0].type.tensor_type.shape.dim]
    assert dims == ['batch', 'frames', 17, 3]
    layers = [m for m in model.modules() if hasattr(m, 'attn_impl')]
    assert layers and all(m.attn_impl == 'fused' for m in layers)   # restored after export
    assert meta['dualpose.precision'] == 'fp32' and meta['dualpose.outputs'] == 'pose'
    assert meta['dualpose.num_joints'] == '17' and meta['dualpose.embed_dims'] == '64'
    assert meta['dualpose.checkpoint'] == 'dualpose-tiny_synthetic-27f.pth'
    assert read_onnx_metadata(path) == meta


@pytest.mark.parametrize('config, options, small, shapes', [
    ('dualpose-tiny-causal_synthetic-27f.py', {}, True, [(2, 27), (1, 60), (1, 3)]),
    ('dualpose-tiny-causal_synthetic-27f.py', {'model.backbone.lookahead': 3}, True,
     [(2, 27), (1, 50)]),
    ('dualpose-tiny-causal_synthetic-27f.py',
     {'model.backbone.gcn_stream.temporal_graph': 'knn'}, True, [(1, 27), (2, 40)]),
    ('ablations/dualpose-tiny-knn-graph_synthetic-27f.py', {}, True, [(2, 27), (1, 45), (1, 2)]),
    ('ablations/dualpose-tiny-knn-graph-noself_synthetic-27f.py', {}, True, [(1, 27), (2, 33)]),
    ('ablations/dualpose-tiny-temporal-pos_synthetic-27f.py', {}, True, [(1, 27), (2, 20)]),
    ('ablations/dualpose-tiny-mean-fusion_synthetic-27f.py', {}, True, [(2, 27), (1, 64)]),
    ('dualpose-tiny-traj_synthetic-27f.py', {'model.traj_head.hidden_dims': 16}, True,
     [(2, 27), (1, 70)]),
    ('mlp-frame_synthetic-27f.py', {}, False, [(2, 27), (1, 9)]),
])
def test_every_kind_of_model_exports_and_equals_torch(config, options, small, shapes, tmp_path):
    model = small_model(osp.join(SYN, config), small=small, **options)
    path = str(tmp_path / 'm.onnx')
    meta = export_onnx(model, path)
    assert_matches_torch(model, path, shapes)
    if 'traj' in config:
        assert meta['dualpose.outputs'] == 'pose,trajectory'


def test_frame_limits_are_recorded_and_enforced(tmp_path):
    """A k-NN graph traces its k as a constant: fewer frames than k cannot run in the graph
    (torch clamps k); the ORT backend says so instead of ONNX Runtime's TopK error."""
    from dualpose.deploy import attach_backend
    model = small_model(osp.join(SYN, 'ablations/dualpose-tiny-knn-graph-noself_synthetic-27f.py'))
    path = str(tmp_path / 'knn.onnx')
    meta = export_onnx(model, path)
    assert meta['dualpose.min_frames'] == '3'   # k = 2 other frames, plus the frame itself
    attach_backend(model, 'onnxruntime', onnx_file=path)
    with pytest.raises(ValueError, match=r'knn.onnx: the graph takes at least 3 frames \(T\), '
                                         r'got 2'):
        model.head_outputs(torch.zeros(1, 2, 17, 3))
    pos = small_model(osp.join(SYN, 'ablations/dualpose-tiny-temporal-pos_synthetic-27f.py'))
    assert export_onnx(pos, str(tmp_path / 'pos.onnx'))['dualpose.max_frames'] == '243'


@MODELS.register_module()
class NumpyTemporalStream(torch.nn.Module):
    """A stream whose forward leaves torch (numpy): no export path."""

    def __init__(self, dim, **kwargs):
        super().__init__()
        self.proj = torch.nn.Linear(dim, dim)

    def forward(self, x):
        smooth = np.cumsum(x.detach().numpy(), axis=1) / np.arange(1, x.shape[1] + 1)[:, None, None]
        return self.proj(torch.from_numpy(smooth.astype(np.float32)))


@MODELS.register_module()
class FrameCountStream(torch.nn.Module):
    """Declares itself exportable but scales by T as a Python number: traced as a constant."""
    onnx_exportable = True

    def __init__(self, dim, **kwargs):
        super().__init__()
        self.proj = torch.nn.Linear(dim, dim)

    def forward(self, x):
        return self.proj(x) * float(x.shape[1]) / 27


def test_a_module_without_export_path_is_named_and_nothing_written(tmp_path):
    model = small_model(**{'model.backbone.transformer_stream.type': 'NumpyTemporalStream'})
    path = tmp_path / 'no.onnx'
    with pytest.raises(ExportError) as err:
        export_onnx(model, str(path))
    text = str(err.value)
    assert 'model.backbone.blocks.0.streams.0 (tests.test_deploy.test_onnx_export.' \
           'NumpyTemporalStream): has no ONNX export path' in text
    assert 'onnx_exportable = True' in text and 'streams.1' not in text   # the GCN exports
    assert 'PoseLifter: DualStreamFormer(C=16' in text   # the architecture is named
    assert not path.exists() and list(tmp_path.iterdir()) == []
    tool = load_tool('tools/deployment/export_onnx.py')   # the tool exits with the message
    ckpt = tmp_path / 'numpy_stream.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    options = [f'{k}={v}' for k, v in SMALL.items()]
    with pytest.raises(SystemExit, match=r'model.backbone.blocks.0.streams.0 \(tests.*'
                                         r'NumpyTemporalStream\): has no ONNX export path'):
        tool.main([TINY_CONFIG, str(ckpt), '--out', str(path), '--cfg-options', *options,
                   'model.backbone.transformer_stream.type=NumpyTemporalStream'])
    assert not path.exists()


def test_a_graph_that_disagrees_with_torch_is_refused(tmp_path):
    model = small_model(**{'model.backbone.transformer_stream.type': 'FrameCountStream'})
    with pytest.raises(ExportError, match=r"differs from the torch model by .* in 'pose' for "
                                          r'inputs of shape \(2, 41, 17, 3\)'):
        export_onnx(model, str(tmp_path / 'bad.onnx'))
    assert not (tmp_path / 'bad.onnx').exists()


def test_a_file_of_another_model_is_refused_naming_both(demo_onnx, tmp_path):
    from dualpose.apis import init_model
    path, meta = demo_onnx
    other = init_model(TINY_CONFIG, cfg_options={'model.backbone.arch.depth': 2})
    with pytest.raises(ValueError) as err:
        check_onnx_metadata(meta, other, other.cfg.model, path, 'tiny-depth2.py')
    text = str(err.value)
    assert f"{path!r} does not match tiny-depth2.py" in text
    assert 'DualStreamFormer(C=64, depth=4' in text and 'DualStreamFormer(C=64, depth=2' in text
    assert 'model.backbone.arch.depth: 4 vs 2' in text
    assert meta['dualpose.model_hash'] in text
    # the same config with the fused kernel or without flip test is the same graph: accepted
    same = init_model(TINY_CONFIG, DEMO_CKPT, cfg_options={'model.test_cfg.flip_test': False})
    check_onnx_metadata(meta, same, same.cfg.model, path, 'tiny', checkpoint=DEMO_CKPT)
    # other weights: refused when the checkpoint is named
    ckpt = tmp_path / 'other.pth'
    torch.save({'state_dict': small_model(TINY_CONFIG, small=False).state_dict()}, ckpt)
    retrained = init_model(TINY_CONFIG, str(ckpt))
    with pytest.raises(ValueError, match=r'holds other weights .*exported from '
                                         r'dualpose-tiny_synthetic-27f.pth.* than .*other.pth'):
        check_onnx_metadata(meta, retrained, retrained.cfg.model, path, 'tiny', str(ckpt))


def test_a_file_without_dualpose_metadata_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node('Identity', ['inputs'], ['pose'])], 'g',
                              [helper.make_tensor_value_info('inputs', TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info('pose', TensorProto.FLOAT, [1])])
    path = str(tmp_path / 'plain.onnx')
    onnx.save(helper.make_model(graph), path)
    model = small_model()
    with pytest.raises(ValueError, match=r"plain.onnx' has no dualpose metadata"):
        check_onnx_metadata(read_onnx_metadata(path), model, model.cfg.model, path)
    with pytest.raises(FileNotFoundError, match='absent.onnx'):
        read_onnx_metadata(str(tmp_path / 'absent.onnx'))
    (tmp_path / 'junk.onnx').write_bytes(b'not a protobuf at all')
    with pytest.raises(ValueError, match='not a readable ONNX file'):
        read_onnx_metadata(str(tmp_path / 'junk.onnx'))


def test_export_tool_writes_fp32_and_int8(tmp_path, capsys):
    tool = load_tool('tools/deployment/export_onnx.py')
    opts = ['--cfg-options', 'model.backbone.arch.depth=1']
    out = tmp_path / 'm8.onnx'
    # a checkpoint of the depth-1 model
    model = small_model(TINY_CONFIG, small=False, **{'model.backbone.arch.depth': 1})
    ckpt = tmp_path / 'd1.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    meta = tool.main([TINY_CONFIG, str(ckpt), '--out', str(out), '--int8', *opts])
    printed = capsys.readouterr().out
    assert f'wrote {out}' in printed and 'precision int8' in printed
    assert meta['dualpose.precision'] == 'int8'
    import onnx
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert 'MatMulInteger' in ops or 'DynamicQuantizeMatMul' in ops
    for bad, message in ((['--opset', '11'], 'opset 14 or later'),
                         (['--out', str(tmp_path / 'x.txt')], 'must name a .onnx file')):
        argv = [TINY_CONFIG, str(ckpt), '--out', str(out), *bad]
        with pytest.raises(SystemExit, match=message):
            tool.main(argv)
    with pytest.raises(SystemExit, match="checkpoint .*absent.pth' does not exist"):
        tool.main([TINY_CONFIG, str(tmp_path / 'absent.pth'), '--out', str(out)])
