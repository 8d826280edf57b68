"""Live lifting: each new frame of 2D keypoints lifted as it arrives, by a causal model.

A causal backbone (``DualStreamFormer(causal=True, window=W)``) makes frame t depend on frames
<= t only, so the features of a new frame follow from the new frame and what each temporal
layer kept of the last W frames (attention keys and values, the graph's previous frame):
one pass of J tokens through the layers instead of a whole window (``backbone.step``).

    from dualpose.apis import LiftingStream, init_model
    model = init_model('configs/dualpose/synthetic/dualpose-tiny-causal_synthetic-27f.py', ckpt)
    stream = LiftingStream(model, image_size=(1000, 1002))
    for keypoints in detector:          # (J, 2|3) pixels, one frame
        pose = stream.push(keypoints)   # (J, 3) root-relative, normalised screen units

The outputs equal the causal model's forward over all frames pushed so far (tested within
1e-5), frame by frame.
"""
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from dualpose.codecs import ScreenLiftingCodec, flip_pose, root_relative
from dualpose.keypoints.checks import check_image_size, check_keypoints
from dualpose.models.utils.ring_cache import ring_tensor_names, write_new_frames

__all__ = ['LiftingStream', 'CAUSAL_CONFIG', 'export_stream_onnx', 'STREAM_BACKENDS']

STREAM_BACKENDS = ('torch', 'onnxruntime')

# the config a live user should train or load (named in the refusal of a non-causal model)
CAUSAL_CONFIG = 'configs/dualpose/synthetic/dualpose-tiny-causal_synthetic-27f.py'


class LiftingStream:
    """Lift one frame at a time, for one person or a batch of tracks.

    Args:
        model: a lifter from :func:`~dualpose.apis.init_model` whose backbone is causal
            (``causal=True``); a non-causal model is refused.
        image_size: (w, h) pixels of the video.
        num_tracks (int): people lifted together (a batch); ``push`` then takes
            (num_tracks, J, 2|3). Default 1: ``push`` takes (J, 2|3).
        flip_test (bool, optional): average with the mirrored input as the batch API does;
            default the model's ``test_cfg.flip_test``. Costs a second row per track.
        converter: a joint-set name or converter config (``'coco17'``...) applied first.
        backend (str): ``'torch'`` (default, the reference) or ``'onnxruntime'``: the
            per-frame pass exported once to ONNX (:func:`export_stream_onnx`, fixed-size
            caches of the model's ``window`` frames) and run by ONNX Runtime, whose lower
            per-operator overhead pays for a single frame's J tokens. Needs ``window``.
        threads (int, optional): ONNX Runtime's intra-op threads. Default 1: one frame's
            operators are too small to split (measured per frame on 2 cores, B causal: 17.1
            ms with 1 thread, 19.5 with 2; XS 6.1 and 8.4), and the other core stays free
            for the 2D detector.

    Undetected joints (confidence 0, any coordinates, NaN included) are filled from the past
    only: the joint's last detected position in this track, else the mean of the frame's
    detected joints. A frame in which a track has no detected joint before any was seen is
    refused with a message.

    A model with look-ahead (``backbone.lookahead`` = L > 0) estimates each frame from the L
    frames after it too, so its output lags L frames behind (``delay``): ``push`` of frame n
    returns the pose of frame n - L (None for the first L pushes), and :meth:`flush` at the
    end of a sequence returns the last L poses (the last frame repeated as the future, as
    the batch API does).
    """

    def __init__(self, model, image_size: Sequence[float], num_tracks: int = 1,
                 flip_test: Optional[bool] = None, converter: Union[None, str, Dict] = None,
                 backend: str = 'torch', threads: Optional[int] = None):
        backbone = getattr(model, 'backbone', None)
        if not getattr(backbone, 'causal', False) or not hasattr(backbone, 'step'):
            raise ValueError(
                f'LiftingStream needs a causal model (its backbone built with causal=True) '
                f'so that a frame depends on earlier frames only; this '
                f'{type(backbone).__name__} is not. Use a causal config, e.g. {CAUSAL_CONFIG}')
        meta = getattr(model, 'dataset_meta', None)
        if meta is None:
            raise AttributeError('the model has no dataset_meta (skeleton, flips, root joint): '
                                 'build it with dualpose.apis.init_model')
        if int(num_tracks) < 1:
            raise ValueError(f'num_tracks must be >= 1, got {num_tracks}')
        self.model = model
        self.delay = int(getattr(backbone, 'lookahead', 0))
        self.image_size = check_image_size(image_size, 'LiftingStream')
        self.num_tracks = int(num_tracks)
        self.flip = bool(model.test_cfg.get('flip_test', True) if flip_test is None
                         else flip_test)
        self.flip_indices = list(meta['flip_indices'])
        self.num_joints = int(meta['num_joints'])
        self.root = int(meta.get('root_index', 0))
        self.codec = ScreenLiftingCodec(root_index=self.root)
        self.converter = None
        if converter is not None:
            from dualpose.keypoints import build_converter
            self.converter = build_converter(converter)
        self.device = next(model.parameters()).device
        if backend not in STREAM_BACKENDS:
            raise ValueError(f'backend must be one of {STREAM_BACKENDS}, got {backend!r}')
        self.backend = backend
        self.rows = self.num_tracks * (2 if self.flip else 1)
        self._session = None
        if backend == 'onnxruntime':
            self._session = _ort_session(model, self.rows, threads or 1)
            self._input_names = [i.name for i in self._session.get_inputs()]
        self.reset()

    def reset(self) -> None:
        """Forget every frame: the next push starts new sequences."""
        backbone = self.model.backbone
        if self._session is None:  # rings where the look-back is bounded, else growing
            self._state = backbone.init_state(
                batch=self.rows if backbone.window is not None else None)
        else:  # the rings in numpy, written by ring_cache.write_new_frames as in torch
            self._state = _to_numpy(backbone.init_state(batch=self.rows))
        self._last = None        # (P, J, 2) last known position of each joint
        self._last_input = None  # (rows, 1, J, 3) the last encoded frame, for flush()
        self.frames = 0

    def _features_to_pose(self, x: torch.Tensor) -> torch.Tensor:
        if self._session is None:
            return self.model.head(self.model.backbone.step(x, self._state))
        return torch.from_numpy(_ort_step(self._session, self._input_names, self._state,
                                          x.cpu().numpy()))

    def _fill(self, xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
        detected = conf > 0
        out = xy.copy()
        for p in range(len(xy)):
            if detected[p].all():
                continue
            if self._last is not None:
                fill = self._last[p]
            elif detected[p].any():
                fill = np.broadcast_to(xy[p][detected[p]].mean(0), xy[p].shape)
            else:
                raise ValueError(f'LiftingStream: track {p} has no joint with confidence > 0 in '
                                 f'its first frame; push frames from when the person is seen')
            out[p][~detected[p]] = fill[~detected[p]]
        self._last = out
        return out

    @torch.no_grad()
    def push(self, keypoints, scores=None) -> np.ndarray:
        """Lift the newest frame.

        Args:
            keypoints: (J, 2|3) pixels (third channel: confidence) with ``num_tracks=1``,
                else (num_tracks, J, 2|3).
            scores: (J,) or (num_tracks, J) confidences; overrides a third channel.

        Returns:
            (J, 3), or (num_tracks, J, 3): root-relative 3D in normalised screen units, as
            :func:`~dualpose.apis.inference_lifting` returns them; of frame ``frames - 1 -
            delay`` for a model with look-ahead (None while fewer frames were pushed).
        """
        kp = np.asarray(keypoints, dtype=np.float64)
        single = kp.ndim == 2
        if single:
            kp = kp[None]
            scores = None if scores is None else np.asarray(scores)[None]
        if kp.ndim != 3 or len(kp) != self.num_tracks:
            raise ValueError(f'LiftingStream.push: expected keypoints of shape '
                             f'{"(J, 2|3)" if self.num_tracks == 1 else "(P, J, 2|3)"} for '
                             f'{self.num_tracks} track(s), got {np.shape(keypoints)}')
        xy, conf, _ = check_keypoints(kp, scores, self.image_size,
                                      where='LiftingStream.push',
                                      frame_ids=[f'track {p}' for p in range(len(kp))])
        if self.converter is not None:
            xy, conf = self.converter(xy, conf)
        if xy.shape[1] != self.num_joints:
            raise ValueError(f'LiftingStream.push: the model lifts {self.num_joints} joints, '
                             f'the keypoints have {xy.shape[1]}; pass converter= (e.g. '
                             "'coco17') to convert them")
        xy = self._fill(xy, conf)
        inputs = self.codec.encode(xy, self.image_size, conf)['lifting_inputs']
        x = torch.from_numpy(inputs).to(self.device)[:, None]  # (P, 1, J, 3)
        if self.flip:
            x = torch.cat([x, flip_pose(x, self.flip_indices)])
        self._last_input, self._single = x, single
        self.frames += 1
        out = self._lift(x)
        if self.frames <= self.delay:
            return None
        return out[0] if single else out

    def _lift(self, x: torch.Tensor) -> np.ndarray:
        """One encoded frame (rows, 1, J, 3) through the model: (num_tracks, J, 3)."""
        pred = self._features_to_pose(x)
        if self.flip:
            p = self.num_tracks
            pred = (pred[:p] + flip_pose(pred[p:], self.flip_indices)) / 2
        pred = root_relative(pred, self.root)[:, 0]
        return self.codec.decode(pred.cpu().numpy())['pred']

    @torch.no_grad()
    def flush(self) -> List[np.ndarray]:
        """The poses a model with look-ahead still owes at the end of a sequence: the last
        ``min(delay, frames)`` frames, in order, each (J, 3) or (num_tracks, J, 3), computed
        with the last frame repeated as their future. Empty without look-ahead. Call
        :meth:`reset` before pushing a new sequence."""
        if self._last_input is None or not self.delay:
            return []
        owed = min(self.delay, self.frames)
        outs = [self._lift(self._last_input) for _ in range(self.delay)][-owed:]
        self._last_input = None
        return [o[0] if self._single else o for o in outs]


# ------------------------------------------------------------------------------ export
def _flatten(state: List[List[dict]]) -> list:
    """The tensors of a state of ring caches, in the order of the exported step's inputs."""
    return [cache[k] for blk in state for cache in blk for k in ring_tensor_names(cache)]


def _new_rows(state: List[List[dict]]) -> list:
    """The new frame's rows a step left in the caches, in the order of its outputs."""
    return [cache['new'][k] for blk in state for cache in blk for k in sorted(cache['new'])]


def _write_rows(state: List[List[dict]], rows: Sequence) -> None:
    """Put ``rows`` (an exported step's outputs after the pose) into the caches' ``new`` and
    write them into the rings."""
    it = iter(rows)
    for blk in state:
        for cache in blk:
            cache['new'] = {k: next(it) for k in sorted(cache['frame_axis'])}
    write_new_frames(state)


def _ort_step(session, names: Sequence[str], state: List[List[dict]], frame: np.ndarray):
    """One frame through the exported step run by ONNX Runtime: the pose, the numpy rings of
    ``state`` written with the new frame's rows."""
    out = session.run(None, dict(zip(names, [frame, *_flatten(state)])))
    _write_rows(state, out[1:])
    return out[0]


def _to_numpy(state: List[List[dict]]) -> List[List[dict]]:
    return [[{k: v.cpu().numpy() if torch.is_tensor(v) else v for k, v in cache.items()}
             for cache in blk] for blk in state]


class _StepGraph(nn.Module):
    """A causal model's per-frame pass over flat ring tensors: ``(frame, *rings) -> (pose
    (B, 1, J, 3), *the new frame's rows)``, the form ONNX export needs; the caller writes the
    rows into its rings (:func:`_write_rows`)."""

    def __init__(self, model, template: List[List[dict]]):
        super().__init__()
        self.model = model
        self.template = template

    def forward(self, frame: torch.Tensor, *flat: torch.Tensor):
        it = iter(flat)
        state = [[{**cache, **{k: next(it) for k in ring_tensor_names(cache)}}
                  for cache in blk] for blk in self.template]
        pose = self.model.head(self.model.backbone.step(frame, state, write=False))
        return (pose, *_new_rows(state))


def export_stream_onnx(model, path: str, rows: int = 2) -> Tuple[str, int]:
    """Write the per-frame pass of a causal ``model`` to the ONNX file ``path`` for ``rows``
    rows per step (tracks, doubled with flip test): its inputs are the frame and the ring
    caches of the ``window - 1`` frames before it (:mod:`~dualpose.models.utils.ring_cache`),
    its outputs the pose and the new frame's rows, which the caller writes into the rings
    (so that no step copies the look-back). Returns ``(path, number of ring tensors)``.
    The file is written under a temporary name and renamed when complete."""
    backbone = model.backbone
    if not getattr(backbone, 'causal', False) or getattr(backbone, 'window', None) is None:
        raise ValueError('ONNX export of the per-frame pass needs a causal model with a '
                         f'bounded look-back (window=W), e.g. {CAUSAL_CONFIG}')
    from dualpose.deploy.onnx_export import torchscript_export
    from dualpose.utils.fileio import atomic_path
    template = backbone.init_state(batch=rows)
    flat = _flatten(template)
    graph = _StepGraph(model, template).eval()
    frame = torch.zeros(rows, 1, backbone.num_joints, backbone.in_channels)
    names = [f'state_{i}' for i in range(len(flat))]
    num_rows = sum(len(cache['frame_axis']) for blk in template for cache in blk)
    # every shape of the step is fixed: no dynamic axes; the layers' shape checks the tracer
    # turns into constants are constants here
    with atomic_path(path) as tmp:
        torchscript_export(graph, (frame, *flat), tmp, ['frame', *names],
                           ['pose', *[f'row_{i}' for i in range(num_rows)]])
    return path, len(flat)


def _ort_session(model, rows: int, threads: Optional[int] = None):
    """The per-frame pass of ``model`` for ``rows`` rows, exported to a temporary file and
    loaded by ONNX Runtime (:func:`dualpose.deploy.ort_session`)."""
    from dualpose.deploy.ort import import_onnxruntime, ort_session
    import_onnxruntime()   # before exporting: the message says what to install
    folder = tempfile.mkdtemp(prefix='dualpose_stream_')
    try:
        path, _ = export_stream_onnx(model, osp.join(folder, 'step.onnx'), rows)
        return ort_session(path, threads)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
