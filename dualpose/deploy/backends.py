"""Backends a lifter's tensors can run on, attached to the model so the inference API, flip
test, sliding windows and ``tools/test.py`` use them unchanged
(:meth:`~dualpose.models.PoseLifter.head_outputs` asks the attached one):

- ``backend='torch'``: the model's own modules, ``precision`` fp32 (nothing attached), bf16
  or int8 (:mod:`dualpose.deploy.precision`);
- ``backend='onednn'``: torch with oneDNN's prepacked linear layers, fp32, inference on the
  CPU (:mod:`dualpose.deploy.onednn`);
- ``backend='onnxruntime'``: the whole lifter exported to ONNX (:func:`export_onnx`; a file
  given, checked against the config, or exported once into a cache) and run by ONNX Runtime,
  fp32 or int8.
"""
import os
import os.path as osp
from typing import Optional

import numpy as np
import torch

from .onnx_export import (META_PREFIX, OPSET, OUTPUTS, check_onnx_metadata, export_onnx,
                          identity_hash, model_identity, weights_digest)
from .ort import ort_session
from .precision import check_precision, torch_backend

BACKENDS = ('torch', 'onednn', 'onnxruntime')


def onnx_cache_dir() -> str:
    """Where on-the-fly exports are kept: ``$DUALPOSE_ONNX_CACHE``, default
    ``~/.cache/dualpose/onnx``."""
    return os.environ.get('DUALPOSE_ONNX_CACHE',
                          osp.join(osp.expanduser('~'), '.cache', 'dualpose', 'onnx'))


def cached_onnx(model, model_cfg, precision: str = 'fp32', root_index: int = 0,
                checkpoint: Optional[str] = None, opset: int = OPSET) -> str:
    """The ONNX export of ``model`` in the cache, exported first when absent. Its name holds
    the model's config hash, the weights' digest, the precision, the root joint, the opset and
    the dualpose version, so another model or version never reuses a file."""
    from dualpose.version import __version__
    name = (f'{type(model).__name__}-{identity_hash(model_identity(model_cfg))}-'
            f'{weights_digest(model)}-{precision}-root{root_index}-opset{opset}-'
            f'v{__version__}.onnx')
    path = osp.join(onnx_cache_dir(), name)
    if not osp.isfile(path):
        export_onnx(model, path, opset=opset, int8=precision == 'int8', model_cfg=model_cfg,
                    checkpoint=checkpoint, root_index=root_index)
    return path


class OrtBackend:
    """An exported lifter run by ONNX Runtime: ``(inputs, with_trajectory, root_index) ->
    (pose, trajectory or None)`` as :meth:`~dualpose.models.PoseLifter.heads_forward`,
    the tensors back on the inputs' device. Inputs the graph cannot take (another J or C,
    fewer or more frames than it was exported for, another root joint for the trajectory)
    are refused naming the file."""

    backend = 'onnxruntime'

    def __init__(self, onnx_file: str, threads: Optional[int] = None, session=None):
        self.onnx_file = onnx_file
        self.session = session or ort_session(onnx_file, threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = dict(meta)

        def get(key, default=''):
            return meta.get(META_PREFIX + key, default)
        self.precision = get('precision', 'fp32')
        self.num_joints = int(get('num_joints', -1))
        self.in_channels = int(get('in_channels', -1))
        self.root_index = int(get('root_index', 0))
        self.min_frames = int(get('min_frames', 1) or 1)
        self.max_frames = int(get('max_frames')) if get('max_frames') else None
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.input_name = self.session.get_inputs()[0].name
        self.description = f'onnxruntime {self.precision} ({onnx_file})'

    def __call__(self, inputs: torch.Tensor, with_trajectory: bool = True,
                 root_index: int = 0):
        shape = tuple(inputs.shape)
        if len(shape) != 4 or shape[2:] != (self.num_joints, self.in_channels):
            raise ValueError(f'{self.onnx_file}: the graph takes inputs (B, T, J='
                             f'{self.num_joints}, C={self.in_channels}), got {shape}')
        frames = shape[1]
        if frames < self.min_frames or (self.max_frames is not None and
                                        frames > self.max_frames):
            span = (f'{self.min_frames}..{self.max_frames}' if self.max_frames is not None
                    else f'at least {self.min_frames}')
            raise ValueError(f'{self.onnx_file}: the graph takes {span} frames (T), got '
                             f'{frames}: use windows of the model\'s length')
        want_traj = with_trajectory and OUTPUTS[1] in self.output_names
        if want_traj and int(root_index) != self.root_index:
            raise ValueError(f'{self.onnx_file}: its trajectory is relative to joint '
                             f'{self.root_index}, root_index={root_index} was asked for; '
                             'export again with that root joint')
        feed = {self.input_name: np.ascontiguousarray(
            inputs.detach().float().cpu().numpy())}
        names = self.output_names if want_traj else self.output_names[:1]
        out = self.session.run(names, feed)
        pose = torch.from_numpy(out[0]).to(inputs.device)
        traj = torch.from_numpy(out[1]).to(inputs.device) if want_traj else None
        return pose, traj


def attach_backend(model, backend: str = 'torch', precision: str = 'fp32',
                   onnx_file: Optional[str] = None, threads: Optional[int] = None,
                   model_cfg=None, config_name: str = 'the config',
                   checkpoint: Optional[str] = None, root_index: Optional[int] = None):
    """Make ``model`` (a :class:`~dualpose.models.PoseLifter`) compute its tensors with
    ``backend`` in ``precision``; returns the model. ``backend='torch', precision='fp32'``
    detaches any backend (the reference).

    Args:
        onnx_file: ``backend='onnxruntime'``: the exported file (``export_onnx.py``); its
            metadata must match ``model_cfg`` (and, with ``checkpoint``, the weights loaded
            into ``model``) and its precision ``precision``. None: exported into the cache
            (:func:`cached_onnx`) the first time.
        threads: ONNX Runtime's intra-op threads (default torch's).
        model_cfg: the config's ``model`` dict (default ``model.cfg.model``).
        config_name: how messages name the config.
        root_index: the joint the trajectory is relative to (default ``dataset_meta``'s).
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    check_precision(precision)
    if not hasattr(model, 'head_outputs'):
        raise TypeError(f'a deployment backend runs a lifter with head_outputs (PoseLifter), '
                        f'not {type(model).__name__}')
    model.deploy_backend = None
    if backend == 'torch':
        if onnx_file is not None:
            raise ValueError(f"onnx_file={onnx_file!r} is read by backend='onnxruntime'; "
                             "backend='torch' runs the torch model")
        model.deploy_backend = torch_backend(model, precision)
        return model
    if backend == 'onednn':
        if onnx_file is not None or precision != 'fp32':
            raise ValueError(f"backend='onednn' runs the torch model in fp32 (onnx_file="
                             f"{onnx_file!r}, precision={precision!r} asked for); bf16 and int8 "
                             "run with backend='torch', ONNX files with backend='onnxruntime'")
        from .onednn import onednn_backend
        model.deploy_backend = onednn_backend(model)
        return model
    if precision == 'bf16':
        raise ValueError("precision='bf16' runs in torch (autocast); ONNX Runtime runs 'fp32' "
                         "or 'int8' (an export with --int8)")
    if model_cfg is None:
        cfg = getattr(model, 'cfg', None)
        if cfg is None or 'model' not in cfg:
            raise ValueError("backend='onnxruntime' checks the ONNX file against the model's "
                             'config: build the model with init_model or pass model_cfg')
        model_cfg = cfg.model
    if root_index is None:
        root_index = int((getattr(model, 'dataset_meta', None) or {}).get('root_index', 0))
    if onnx_file is None:
        onnx_file = cached_onnx(model, model_cfg, precision, root_index, checkpoint)
    elif not osp.isfile(onnx_file):
        raise FileNotFoundError(f'ONNX file {onnx_file!r} does not exist; write it with '
                                '.venv/bin/python tools/deployment/export_onnx.py CONFIG '
                                'CHECKPOINT --out FILE')
    session = ort_session(onnx_file, threads)
    meta = session.get_modelmeta().custom_metadata_map
    check_onnx_metadata(meta, model, model_cfg, onnx_file, config_name, checkpoint)
    runner = OrtBackend(onnx_file, threads, session=session)
    if runner.precision != precision:
        raise ValueError(f'{onnx_file!r} is a {runner.precision} export, precision='
                         f'{precision!r} was asked for: export with'
                         f'{" --int8" if precision == "int8" else "out --int8"} or ask for '
                         f'{runner.precision!r}')
    model.deploy_backend = runner
    return model


def describe_backend(model) -> str:
    """What computes ``model``'s tensors, in words."""
    backend = getattr(model, 'deploy_backend', None)
    return 'torch fp32' if backend is None else backend.description
