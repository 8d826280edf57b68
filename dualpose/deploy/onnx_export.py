"""ONNX export of a whole lifter: backbone and heads as one graph with a dynamic batch and
number of frames.

    inputs      (B, T, J, C)  float32, normalised x, y and confidence (the model's input)
    pose        (B, T, J, 3)  the pose head's output (root-relative after ``root_relative``)
    trajectory  (B, T, 3)     with a trajectory head only: ``(du, dv, d)``

Flip test, root-relative poses and the windows of long sequences stay outside the graph, in
the code that runs either backend (:meth:`~dualpose.models.PoseLifter.head_outputs`).

The exporter is torch's TorchScript one (``dynamo=False``: it needs the ``onnx`` package only),
opset 17. Before exporting, every module the forward pass calls is checked to have an export
path (:func:`export_problems`); ``attn_impl='fused'`` layers are traced as SDPA, since the
compiled CPU kernel is a ctypes call a tracer cannot see (it would leave an uninitialised
buffer in the graph). After exporting, ONNX Runtime runs the graph on two batch sizes and
frame counts and must agree with torch (:func:`verify_onnx`).

The file's ``metadata_props`` (keys ``dualpose.*``) say what it was exported from: the
model's config (its hash and the JSON of the parts that change the graph), an architecture
summary, J and the channels, the weights' digest, the precision, the dualpose version. A
file whose model does not match the config it is used with is refused
(:func:`check_onnx_metadata`), naming both.
"""
import contextlib
import hashlib
import json
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from .ort import import_onnx, import_onnxruntime, ort_session

OPSET = 17
META_PREFIX = 'dualpose.'
INPUT = 'inputs'
OUTPUTS = ('pose', 'trajectory')
VERIFY_TOL = 1e-4
# config keys that do not change the exported function: losses, initialisation, training-only
# regularisation, the flip-test switch (outside the graph), how attention is computed (the
# three implementations agree; 'fused' is traced as SDPA)
IRRELEVANT_KEYS = ('init_cfg', 'loss', 'test_cfg', 'data_preprocessor', 'frozen', 'attn_impl',
                   'use_sdpa', 'drop_rate', 'drop_path_rate', 'attn_drop', 'proj_drop',
                   'dropout')
EXPORT_HINT = ('export it again from this config and checkpoint: .venv/bin/python '
               'tools/deployment/export_onnx.py CONFIG CHECKPOINT --out FILE')


class ExportError(RuntimeError):
    """The model cannot be exported, or its graph disagrees with torch."""


# ------------------------------------------------------------------------------ identity
def model_identity(model_cfg) -> dict:
    """The config's ``model`` dict without the keys that do not change the exported function
    (:data:`IRRELEVANT_KEYS`; dicts left empty by that are dropped too), as plain JSON
    types."""
    def clean(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key in IRRELEVANT_KEYS:
                    continue
                value = clean(value)
                if isinstance(value, dict) and not value:
                    continue
                out[str(key)] = value
            return out
        if isinstance(node, (list, tuple)):
            return [clean(v) for v in node]
        if isinstance(node, np.generic):
            return node.item()
        return node
    return clean(dict(model_cfg))


def identity_hash(identity: dict) -> str:
    text = json.dumps(identity, sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def identity_differences(a: dict, b: dict, prefix: str = 'model', limit: int = 5) -> List[str]:
    """The first ``limit`` keys where two identities differ, as ``'key: a vs b'``."""
    out: List[str] = []

    def walk(x, y, where):
        if len(out) >= limit:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                walk(x.get(key, '<absent>'), y.get(key, '<absent>'), f'{where}.{key}')
        elif x != y:
            out.append(f'{where}: {json.dumps(x, default=str)} vs {json.dumps(y, default=str)}')
    walk(a, b, prefix)
    return out


def architecture_summary(model: nn.Module) -> str:
    """One line naming the model's parts and sizes, e.g. ``PoseLifter: DualStreamFormer(C=64,
    depth=4, J=17, in=3, streams=TransformerStream+GCNStream), head
    LiftingRegressionHead``."""
    b = model.backbone
    fields = [f'{label}={getattr(b, attr)}' for attr, label in (
        ('embed_dims', 'C'), ('depth', 'depth'), ('num_joints', 'J'), ('in_channels', 'in'))
        if getattr(b, attr, None) is not None]
    blocks = getattr(b, 'blocks', None)
    if blocks is not None and len(blocks) and hasattr(blocks[0], 'streams'):
        fields.append('streams=' + '+'.join(type(s).__name__ for s in blocks[0].streams))
    for attr in ('causal', 'window', 'lookahead'):
        if getattr(b, attr, None):
            fields.append(f'{attr}={getattr(b, attr)}')
    traj = getattr(model, 'traj_head', None)
    return (f'{type(model).__name__}: {type(b).__name__}({", ".join(fields)}), head '
            f'{type(model.head).__name__}' +
            (f', traj_head {type(traj).__name__}' if traj is not None else ''))


def weights_digest(model: nn.Module) -> str:
    """SHA-256 (first 16 hex digits) of the model's weights: names, shapes and float32
    values, in name order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if not torch.is_tensor(tensor) or tensor.is_quantized:
            continue
        digest.update(f'{name}:{tuple(tensor.shape)}'.encode())
        digest.update(np.ascontiguousarray(tensor.detach().float().cpu().numpy()).tobytes())
    return digest.hexdigest()[:16]


def frame_limits(model: nn.Module) -> Tuple[int, Optional[int]]:
    """The frame counts T the exported graph takes: ``(min, max or None)``. A k-NN temporal
    graph traces its ``k`` as a constant (k frames at least, k + 1 without ``knn_self``); a
    temporal position embedding holds ``max_frames``."""
    from dualpose.models.layers.graph_conv import TemporalGraphConv
    low, high = 1, None
    for m in model.modules():
        if isinstance(m, TemporalGraphConv) and m.mode == 'knn':
            low = max(low, m.k + (0 if m.knn_self else 1))
    b = model.backbone
    if getattr(b, 'temporal_pos', None) is not None:
        high = int(b.max_frames)
    return low, high


# ------------------------------------------------------------------------------ checks
def _known_exportable() -> tuple:
    """dualpose's module types whose forward traces to ONNX with a dynamic batch and T
    (tests/test_deploy exports every shipped config and compares with torch)."""
    from mmcv.cnn.bricks import DropPath

    from dualpose.models.backbones.dual_stream_former import DualStreamBlock, DualStreamFormer
    from dualpose.models.backbones.mlp_lifter import FrameMLP, _ResidualLinear
    from dualpose.models.heads.regression_head import LiftingRegressionHead
    from dualpose.models.heads.trajectory_head import TrajectoryHead
    from dualpose.models.layers.attention import (MultiHeadSelfAttention, SpatialAttention,
                                                  TemporalAttention)
    from dualpose.models.layers.fusion import AdaptiveFusion, MeanFusion
    from dualpose.models.layers.graph_conv import SkeletonGraphConv, TemporalGraphConv
    from dualpose.models.layers.metaformer import MetaFormerBlock
    from dualpose.models.layers.mlp import Mlp
    from dualpose.models.streams.streams import GCNStream, TransformerStream
    return (DropPath, DualStreamBlock, DualStreamFormer, FrameMLP, _ResidualLinear,
            LiftingRegressionHead, TrajectoryHead, MultiHeadSelfAttention, SpatialAttention,
            TemporalAttention, AdaptiveFusion, MeanFusion, SkeletonGraphConv, TemporalGraphConv,
            MetaFormerBlock, Mlp, GCNStream, TransformerStream)


NO_PATH = ('has no ONNX export path: dualpose exports the module types it has tested with a '
           'dynamic batch and frame count; once this one\'s forward traces to ONNX (no Python '
           'branches on tensor values or on T, no numpy, no custom kernels), give its class '
           '`onnx_exportable = True`, or an `onnx_export_problem()` method returning None or '
           'the reason it cannot')


def _module_problem(module: nn.Module, known: tuple) -> Optional[str]:
    cls = type(module)
    check = getattr(module, 'onnx_export_problem', None)
    if callable(check):
        return check()
    if cls in known or getattr(cls, 'onnx_exportable', False):
        return None
    if cls.__module__.startswith('torch.nn.'):
        return None   # torch's own layers
    return NO_PATH


def called_modules(model: nn.Module, inputs: torch.Tensor) -> List[str]:
    """Names of the submodules a torch pass of ``heads_forward`` calls, in call order, once
    each (losses and other parts the forward does not use are not among them)."""
    called: Dict[str, None] = {}
    handles = [m.register_forward_pre_hook(lambda mod, args, name=name: called.setdefault(name))
               for name, m in model.named_modules() if name]
    try:
        with torch.no_grad():
            model.heads_forward(inputs, True, 0)
    finally:
        for h in handles:
            h.remove()
    return list(called)


def export_problems(model: nn.Module, inputs: torch.Tensor) -> List[str]:
    """Why ``model`` cannot be exported: one line per called module without an export path,
    ``'model.<qualified name> (<module>.<type>): <reason>'``; empty when it can be."""
    if not hasattr(model, 'heads_forward'):
        return [f'model ({type(model).__module__}.{type(model).__name__}): exports a lifter '
                'with heads_forward (PoseLifter); this model predicts no 3D poses']
    known = _known_exportable()
    modules = dict(model.named_modules())
    problems = []
    for name in called_modules(model, inputs):
        reason = _module_problem(modules[name], known)
        if reason:
            cls = type(modules[name])
            problems.append(f'model.{name} ({cls.__module__}.{cls.__qualname__}): {reason}')
    return problems


@contextlib.contextmanager
def export_mode(model: nn.Module):
    """Eval mode, and ``attn_impl='fused'`` layers computing SDPA (the same values; the
    compiled kernel cannot be traced), restored afterwards. Yields how many were switched."""
    from dualpose.models.layers.attention import MultiHeadSelfAttention
    fused = [m for m in model.modules()
             if isinstance(m, MultiHeadSelfAttention) and m.attn_impl == 'fused']
    training = model.training
    for m in fused:
        m.attn_impl = 'sdpa'
    model.eval()
    try:
        yield len(fused)
    finally:
        for m in fused:
            m.attn_impl = 'fused'
        model.train(training)


# ------------------------------------------------------------------------------ export
def torchscript_export(module: nn.Module, args: tuple, path: str, input_names: Sequence[str],
                       output_names: Sequence[str], dynamic_axes: Optional[dict] = None,
                       opset: int = OPSET) -> None:
    """``torch.onnx.export`` with the TorchScript exporter (it needs the onnx package only;
    torch's newer exporter also needs onnxscript), written to ``path`` as it is. The
    exporter's legacy warnings and the tracer's warnings about shape checks turned into
    constants are silenced: the graph is compared with torch afterwards."""
    import_onnx()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings('ignore', category=DeprecationWarning, module='torch')
        warnings.filterwarnings('ignore', category=DeprecationWarning, message='.*legacy')
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', message='.*dynamic_axes.*')
        torch.onnx.export(module, args, path, dynamo=False, opset_version=int(opset),
                          input_names=list(input_names), output_names=list(output_names),
                          dynamic_axes=dynamic_axes, do_constant_folding=True)


class LifterGraph(nn.Module):
    """What the exported graph computes: ``inputs -> pose[, trajectory]`` of
    :meth:`~dualpose.models.PoseLifter.heads_forward`."""

    def __init__(self, model: nn.Module, root_index: int = 0):
        super().__init__()
        self.model = model
        self.root_index = int(root_index)
        self.with_trajectory = getattr(model, 'traj_head', None) is not None

    def forward(self, inputs: torch.Tensor):
        pose, traj = self.model.heads_forward(inputs, self.with_trajectory, self.root_index)
        return pose if traj is None else (pose, traj)


def _as_tuple(out) -> tuple:
    return out if isinstance(out, tuple) else (out, )


def verify_onnx(path: str, graph: LifterGraph, shapes: Sequence[Tuple[int, int]],
                tol: float = VERIFY_TOL, seed: int = 0) -> float:
    """Run the file with ONNX Runtime on random inputs of each (B, T) of ``shapes`` and compare
    with ``graph`` in torch; returns the largest difference. Raises :class:`ExportError` when
    it exceeds ``tol``."""
    session = ort_session(path, what='checking the exported graph')
    b = graph.model.backbone
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for batch, frames in shapes:
        x = torch.randn(batch, frames, b.num_joints, b.in_channels, generator=gen)
        with torch.no_grad():
            ref = _as_tuple(graph(x))
        got = session.run(None, {INPUT: x.numpy()})
        for name, r, g in zip(OUTPUTS, ref, got):
            diff = float(np.abs(r.numpy() - g).max())
            worst = max(worst, diff)
            if not diff <= tol:
                raise ExportError(
                    f'the ONNX graph of {architecture_summary(graph.model)} differs from the '
                    f'torch model by {diff:.3g} (more than {tol:g}) in {name!r} for inputs of '
                    f'shape {tuple(x.shape)} (B, T, J, C): some module turns the shape of its '
                    'input into a constant when traced (Python logic on T)')
    return worst


def int8_excluded_nodes(path: str) -> List[str]:
    """The matrix-product nodes of the graph ``path`` inside the modules int8 keeps in fp32
    (:data:`dualpose.deploy.precision.FP32_MODULES`; the exporter names a node by its
    module's path, ``/backbone/embed/MatMul``)."""
    from .precision import kept_fp32
    graph = import_onnx().load(path).graph
    return [n.name for n in graph.node if n.op_type in ('MatMul', 'Gemm')
            and kept_fp32('.'.join(n.name.strip('/').split('/')[:-1]))]


def quantize_onnx(src: str, dst: str) -> None:
    """``dst``: ``src`` with its matrix products by weights dynamically quantised to int8
    (``onnxruntime.quantization.quantize_dynamic``: int8 weights per output channel,
    activations quantised per call), except those of
    :data:`~dualpose.deploy.precision.FP32_MODULES`. Products of two
    activations (attention) stay fp32: the quantiser leaves them."""
    import_onnxruntime('int8 ONNX export')
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic
    # it advises its shape-inference pre-processing on the root logger each call; this graph's
    # shapes are dynamic in B and T only, which the quantiser handles without it
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        # per output channel: the layer scales folded into the weights give their columns
        # very different ranges
        quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=['MatMul', 'Gemm'],
                         nodes_to_exclude=int8_excluded_nodes(src))
    finally:
        logging.disable(previous)


def write_metadata(path: str, meta: Dict[str, str]) -> None:
    """Replace the ``dualpose.*`` metadata_props of the ONNX file ``path`` by ``meta``."""
    onnx = import_onnx()
    proto = onnx.load(path)
    kept = [(p.key, p.value) for p in proto.metadata_props if not p.key.startswith(META_PREFIX)]
    del proto.metadata_props[:]
    for key, value in kept + sorted(meta.items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(proto, path)


def export_metadata(model: nn.Module, model_cfg, precision: str, root_index: int, opset: int,
                    checkpoint: Optional[str] = None) -> Dict[str, str]:
    """The ``dualpose.*`` metadata of an export of ``model``."""
    from dualpose.version import __version__
    identity = model_identity(model_cfg)
    low, high = frame_limits(model)
    b = model.backbone
    outputs = OUTPUTS[:2 if getattr(model, 'traj_head', None) is not None else 1]
    meta = dict(version=__version__, model_hash=identity_hash(identity),
                model_cfg=json.dumps(identity, sort_keys=True, default=str),
                architecture=architecture_summary(model), weights=weights_digest(model),
                checkpoint=osp.basename(checkpoint) if checkpoint else '',
                num_joints=b.num_joints, in_channels=b.in_channels,
                embed_dims=getattr(b, 'embed_dims', ''), root_index=int(root_index),
                outputs=','.join(outputs), precision=precision, opset=int(opset),
                min_frames=low, max_frames='' if high is None else high,
                seq_len=getattr(model, 'seq_len', '') or '', torch=torch.__version__)
    return {META_PREFIX + k: str(v) for k, v in meta.items()}


def _model_cfg(model, model_cfg):
    if model_cfg is not None:
        return model_cfg
    cfg = getattr(model, 'cfg', None)
    if cfg is None or 'model' not in cfg:
        raise ValueError('ONNX export records the model\'s config: build the model with '
                         'dualpose.apis.init_model (model.cfg) or pass model_cfg')
    return cfg.model


def _root_index(model, root_index):
    if root_index is not None:
        return int(root_index)
    return int((getattr(model, 'dataset_meta', None) or {}).get('root_index', 0))


def export_onnx(model: nn.Module, path: str, opset: int = OPSET, int8: bool = False,
                model_cfg=None, checkpoint: Optional[str] = None,
                root_index: Optional[int] = None, verify: bool = True) -> Dict[str, str]:
    """Write the whole lifter ``model`` (backbone and heads; dynamic batch and frames) to the
    ONNX file ``path``, int8-quantised with ``int8``. Returns the metadata written.

    Args:
        model: a :class:`~dualpose.models.PoseLifter` (from ``init_model``: its ``cfg`` is
            recorded; else pass ``model_cfg``, the config's ``model`` dict).
        checkpoint: the weights' file, named in the metadata.
        root_index: the joint the trajectory head is relative to (default: the model's
            ``dataset_meta``).
        verify: compare the fp32 graph with torch on two shapes (:func:`verify_onnx`).

    Raises:
        ExportError: a module without an export path (each named, qualified name and type),
            or a graph that disagrees with torch.
    The file is written under a temporary name and renamed when complete.
    """
    from dualpose.utils.fileio import atomic_path
    model_cfg = _model_cfg(model, model_cfg)
    root = _root_index(model, root_index)
    b = model.backbone
    low, high = frame_limits(model)
    frames = int(getattr(model, 'seq_len', None) or 27)
    frames = max(low, frames if high is None else min(frames, high))
    other = frames + frames // 2 + 1   # a second T for the check: longer, else shorter
    if high is not None and other > high:
        other = max(low, frames - 1)
    gen = torch.Generator().manual_seed(0)
    example = torch.randn(1, frames, b.num_joints, b.in_channels, generator=gen)
    with export_mode(model):
        problems = export_problems(model, example)
        if problems:
            raise ExportError(f'{architecture_summary(model)} cannot be exported to ONNX:\n  ' +
                              '\n  '.join(problems))
        graph = LifterGraph(model, root).eval()
        outputs = list(OUTPUTS[:2 if graph.with_trajectory else 1])
        axes = {INPUT: {0: 'batch', 1: 'frames'}}
        axes.update({name: {0: 'batch', 1: 'frames'} for name in outputs})
        meta = export_metadata(model, model_cfg, 'int8' if int8 else 'fp32', root, opset,
                               checkpoint)
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with atomic_path(path, suffix='.onnx') as tmp:
            fp32 = tmp + '.fp32.onnx' if int8 else tmp
            try:
                torchscript_export(graph, (example, ), fp32, [INPUT], outputs, axes, opset)
                if verify:
                    verify_onnx(fp32, graph, [(1, frames), (2, other)])
                if int8:
                    quantize_onnx(fp32, tmp)
            finally:
                if int8 and osp.exists(fp32):
                    os.remove(fp32)
            write_metadata(tmp, meta)
    return meta


# ------------------------------------------------------------------------------ reading
def read_onnx_metadata(path: str) -> Dict[str, str]:
    """The ``metadata_props`` of the ONNX file ``path`` (all keys)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'ONNX file {path!r} does not exist')
    onnx = import_onnx('reading an ONNX file')
    try:
        proto = onnx.load(path, load_external_data=False)
    except Exception as err:  # onnx raises DecodeError and others
        raise ValueError(f'{path!r} is not a readable ONNX file ({type(err).__name__}: '
                         f'{err})') from err
    return {p.key: p.value for p in proto.metadata_props}


def check_onnx_metadata(meta: Dict[str, str], model: nn.Module, model_cfg, onnx_file: str,
                        config_name: str = 'the config',
                        checkpoint: Optional[str] = None) -> None:
    """Refuse an ONNX file that was not exported from this model: another config (the two
    architectures, hashes and the first differing keys named), another joint count or
    channels, or, when ``checkpoint`` was loaded into ``model``, other weights."""
    key = META_PREFIX + 'model_hash'
    if key not in meta:
        raise ValueError(f'{onnx_file!r} has no dualpose metadata ({key} missing): it was not '
                         f'written by dualpose\'s export; {EXPORT_HINT}')
    identity = model_identity(model_cfg)
    mine = identity_hash(identity)
    b = model.backbone
    file_arch = meta.get(META_PREFIX + 'architecture', '?')
    if meta[key] != mine:
        try:
            theirs = json.loads(meta.get(META_PREFIX + 'model_cfg', '{}'))
        except ValueError:
            theirs = {}
        diffs = identity_differences(theirs, identity)
        raise ValueError(
            f'{onnx_file!r} does not match {config_name}: the file holds {file_arch} (model '
            f'hash {meta[key]}), {config_name} builds {architecture_summary(model)} (model '
            f'hash {mine})' + (f'; differences (file vs config): {"; ".join(diffs)}'
                               if diffs else '') + f'. {EXPORT_HINT}')
    for name, want in (('num_joints', b.num_joints), ('in_channels', b.in_channels)):
        got = meta.get(META_PREFIX + name)
        if got is not None and int(got) != int(want):
            raise ValueError(f'{onnx_file!r} takes {name}={got}, {config_name} builds a model '
                             f'with {name}={want}. {EXPORT_HINT}')
    if checkpoint is not None:
        digest = weights_digest(model)
        theirs = meta.get(META_PREFIX + 'weights')
        if theirs and theirs != digest:
            source = meta.get(META_PREFIX + 'checkpoint') or 'unnamed weights'
            raise ValueError(f'{onnx_file!r} holds other weights (digest {theirs}, exported '
                             f'from {source}) than {checkpoint!r} (digest {digest}). '
                             f'{EXPORT_HINT}')
