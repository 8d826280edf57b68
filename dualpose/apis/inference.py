"""Lift a user's 2D keypoint sequence to 3D with a trained model.

    from dualpose.apis import init_model, inference_lifting
    model = init_model('configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py',
                       'demo/checkpoints/dualpose-tiny_synthetic-27f.pth')
    result = inference_lifting(model, keypoints, image_size=(1920, 1080), converter='coco17')
    result.keypoints_3d          # (T, 17, 3) root-relative, normalised screen units

Units. The model works in *normalised screen units*: pixels divided by half the image width
(``x / w * 2 - 1``, ``y / w * 2 - h / w``), so the image is 2 units wide. Its 3D output is
root-relative (pelvis at the origin), x right, y down, z away from the camera, in the same
units: multiply by ``w / 2`` for pixels (``result.keypoints_3d_pixels()``).

A model with a trajectory head (``configs/dualpose/synthetic/dualpose-tiny-traj_synthetic-27f.py``)
also gives millimetres in the camera frame: ``result.keypoints_3d_camera`` (T, J, 3) and
``result.root_camera`` (T, 3), each joint back-projected through the camera's intrinsics
(``camera=dict(focal=(fx, fy), principal=(cx, cy))``, pixels; the documented default from the
image size otherwise, named in ``result.camera.source``). Every person of a file:
:func:`inference_people`.
"""
import copy
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from dualpose.codecs import (CameraIntrinsics, ScreenLiftingCodec, camera_space_pose,
                             make_camera, normalized_to_mm, root_from_trajectory,
                             screen_to_pixels)
from dualpose.datasets.datasets.base import clip_starts
from dualpose.engine.checkpoint import load_weights as engine_load_weights
from dualpose.keypoints.checks import check_image_size, check_keypoints
from dualpose.engine.checkpoint import read_checkpoint
from dualpose.utils.config import window_length

__all__ = [
    'init_model', 'load_weights', 'inference_lifting', 'inference_people', 'prepare_lifting',
    'sliding_window_predict', 'sliding_window_predict_many', 'fill_missing',
    'normalized_to_mm', 'LiftingResult', 'PeopleLiftingResult', 'UNITS', 'CAMERA_UNITS',
    'has_trajectory'
]

UNITS = ('root-relative 3D in normalised screen units: pixels / (image width / 2); x right, '
         'y down, z away from the camera; x (w / 2) for pixels, x (w / 2) x 2.5d_factor for mm')
CAMERA_FRAME = 'camera frame: origin at the camera centre, x right, y down, z forward (depth)'
CAMERA_UNITS = {
    'keypoints_3d_camera': f'mm, {CAMERA_FRAME}; each joint back-projected through the '
                           'intrinsics',
    'keypoints_3d_mm': 'mm, root-relative (keypoints_3d_camera minus the root), camera axes',
    'root_camera': f'mm, the root joint (pelvis) in the {CAMERA_FRAME}',
    'camera_intrinsics': 'pixels: fx, fy, cx, cy of a pinhole camera without distortion',
}


# ------------------------------------------------------------------------------- model
def _dataset_meta(cfg) -> Dict:
    from dualpose.structures.skeleton import parse_metainfo
    info = cfg.get('dataset_info')
    if info is None:
        for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
            info = ((cfg.get(key) or {}).get('dataset') or {}).get('metainfo')
            if info:
                break
    if not info:
        raise KeyError('the config has no dataset_info (nor a dataloader metainfo): the '
                       'skeleton, flip pairs and root joint are needed for inference')
    return parse_metainfo(dict(info))


def load_weights(model: torch.nn.Module, checkpoint: str, config_name: str = 'the config',
                 model_cfg=None):
    """Load ``checkpoint`` into ``model`` (see :func:`dualpose.engine.checkpoint.load_weights`:
    a DDP ``module.`` prefix is stripped, extra weights are ignored with a warning).

    Raises:
        FileNotFoundError / RuntimeError: missing or unreadable (truncated) file.
        ValueError: weights missing from the file or of another shape than the model built
            from the config, the first few named.
    Returns:
        dict: the checkpoint's ``meta`` (empty if none).
    """
    ckpt = read_checkpoint(checkpoint)
    engine_load_weights(model, ckpt, checkpoint, f'the model of {config_name}',
                        model_cfg=model_cfg)
    return ckpt.get('meta', {}) or {}


def _packaged(path):
    """``path`` itself when it exists; else, for a relative path such as
    ``'configs/...py'`` or ``'demo/checkpoints/...pth'``, the file of that name among
    dualpose's own files (the source tree, or ``dualpose/.mim`` of an installed wheel)."""
    if not isinstance(path, str) or osp.exists(path) or osp.isabs(path):
        return path
    from dualpose.utils.resources import resource_root
    try:
        candidate = osp.join(resource_root(), path)
    except FileNotFoundError:
        return path
    return candidate if osp.exists(candidate) else path


def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[Dict] = None, backend: str = 'torch',
               onnx_file: Optional[str] = None, precision: str = 'fp32',
               threads: Optional[int] = None):
    """Build a lifter from a config (path or ``Config``), load its weights, set eval mode.

    ``backend`` and ``precision`` choose what computes the model's tensors (docs/deployment.md;
    :func:`dualpose.deploy.attach_backend`); the returned model is used the same way by
    :func:`inference_lifting`, :func:`inference_people` and flip test on every one:

    - ``backend='torch'`` (default): ``precision='fp32'`` (the reference), ``'bf16'``
      (autocast where the CPU has native bf16, else fp32 with one log line) or ``'int8'``
      (linear layers dynamically quantised);
    - ``backend='onednn'``: fp32 through oneDNN's prepacked linear layers, the same values
      as fp32 torch, inference on the CPU;
    - ``backend='onnxruntime'``: the exported lifter run by ONNX Runtime, ``'fp32'`` or
      ``'int8'``: ``onnx_file`` (from ``tools/deployment/export_onnx.py``; refused when it was
      exported from another model than ``config``, or from other weights than
      ``checkpoint``), or, without it, exported once into ``$DUALPOSE_ONNX_CACHE``
      (``~/.cache/dualpose/onnx``). ``threads``: its intra-op threads (default torch's).

    The model gets ``cfg``, ``dataset_meta`` (skeleton, ``flip_indices``, ``root_index`` from
    the config's ``dataset_info``) and ``seq_len`` (the window it was trained on).

    A relative ``config`` or ``checkpoint`` path that does not exist from the working directory
    is looked up among dualpose's own files, so the shipped names work from anywhere, also
    from an installed wheel: ``init_model('configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py',
    'demo/checkpoints/dualpose-tiny_synthetic-27f.pth')``.
    """
    config, checkpoint = _packaged(config), _packaged(checkpoint)
    from mmengine.config import Config

    from dualpose.registry import MODELS
    from dualpose.utils.config import read_config, resolve_seq_len
    from .setup_env import register_all_modules
    register_all_modules()
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file {config!r} does not exist')
        name, cfg = config, read_config(config, cfg_options)
    elif isinstance(config, Config):
        name, cfg = 'the given config', copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        resolve_seq_len(cfg)
    else:
        raise TypeError(f'config must be a path or an mmengine Config, got {type(config)}')
    if 'model' not in cfg:
        raise KeyError(f'{name} has no "model" section')
    from dualpose.utils.config_check import check_config_keys
    check_config_keys(dict(model=cfg.model), name)
    model = MODELS.build(copy.deepcopy(cfg.model))
    if not hasattr(model, 'predict_coords'):
        raise TypeError(f'{name} builds a {type(model).__name__}, which does not predict 3D '
                        'poses; use a lifting (fine-tuning) config such as PoseLifter')
    if checkpoint is not None:
        load_weights(model, checkpoint, name, model_cfg=cfg.model)
    model.cfg = cfg
    model.dataset_meta = _dataset_meta(cfg)
    model.seq_len = window_length(cfg)
    model = model.to(device).eval()
    if backend != 'torch' or precision != 'fp32' or onnx_file is not None:
        from dualpose.deploy import attach_backend
        attach_backend(model, backend, precision, onnx_file, threads, model_cfg=cfg.model,
                       config_name=name, checkpoint=checkpoint)
    return model


# ------------------------------------------------------------------------------- helpers
def fill_missing(keypoints: np.ndarray, scores: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Give undetected joints (confidence 0) coordinates the model can use.

    Per joint, coordinates are interpolated linearly in time between the frames where it is
    detected (held constant before the first and after the last). A joint detected in no frame
    takes, per frame, the mean of that frame's other joints. Confidences are not changed.

    Returns:
        ``(keypoints (T, J, 2) float32, filled (T, J) bool)``.
    Raises:
        ValueError: no joint is detected in any frame.
    """
    detected = scores > 0
    if not detected.any():
        raise ValueError(f'no joint has confidence > 0 in any of the {len(keypoints)} frames: '
                         'nothing to lift')
    out = np.array(keypoints, dtype=np.float64)
    frames = np.arange(len(out))
    never = []
    for j in range(out.shape[1]):
        seen = detected[:, j]
        if seen.all():
            continue
        if not seen.any():
            never.append(j)
            continue
        for c in range(2):
            out[~seen, j, c] = np.interp(frames[~seen], frames[seen], out[seen, j, c])
    if never:
        known = [j for j in range(out.shape[1]) if j not in never]
        out[:, never] = out[:, known].mean(1, keepdims=True)
    return out.astype(np.float32), ~detected


def window_weights(seq_len: int) -> np.ndarray:
    """Triangular blending weights of a window's frames: highest in the middle, lowest (but
    above zero) at both ends, so a window fades in and out where it overlaps its neighbours."""
    i = np.arange(seq_len)
    return np.minimum(i + 1, seq_len - i).astype(np.float64)


def sliding_window_predict(predict: Callable[[torch.Tensor], torch.Tensor], inputs: np.ndarray,
                           seq_len: int, stride: Optional[int] = None, batch_size: int = 32,
                           pad_mode: str = 'edge', device='cpu',
                           progress: bool = False) -> np.ndarray:
    """Run ``predict`` ((B, seq_len, J, C) -> (B, seq_len, J, D)) over a sequence of any length.

    - ``T > seq_len``: windows of ``seq_len`` frames every ``stride`` frames (default
      ``seq_len // 2``) plus one ending at the last frame; each frame's output is the
      weighted mean (:func:`window_weights`) of the windows covering it.
    - ``T == seq_len``: one window, exactly the single-pass output.
    - ``T < seq_len``: ``pad_mode='edge'`` repeats the first and last frames to fill one
      window (the length the model was trained on) and crops the output; ``'none'`` runs the
      model on the T frames as they are.

    Returns:
        (T, J, D) float32 numpy array.
    """
    return sliding_window_predict_many(predict, [inputs], seq_len, stride, batch_size,
                                       pad_mode, device, progress)[0]


def sliding_window_predict_many(predict: Callable[[torch.Tensor], torch.Tensor],
                                sequences: Sequence[np.ndarray], seq_len: int,
                                stride: Optional[int] = None, batch_size: int = 32,
                                pad_mode: str = 'edge', device='cpu',
                                progress: bool = False) -> list:
    """:func:`sliding_window_predict` over several sequences (e.g. the tracks of a video) at
    once: their windows share batches, so P people cost about as many forward passes as
    their frames need, not P times the passes of the longest. Returns one (T_i, J, D)
    float32 array per sequence."""
    from tqdm import tqdm
    if pad_mode not in ('edge', 'none'):
        raise ValueError(f"pad_mode must be 'edge' or 'none', got {pad_mode!r}")
    if seq_len < 1:
        raise ValueError(f'seq_len must be >= 1, got {seq_len}')
    step = stride or max(seq_len // 2, 1)
    if not 1 <= step <= seq_len:
        raise ValueError(f'stride must be in [1, seq_len={seq_len}], got {step}')
    if not len(sequences):
        return []
    windows = []   # (sequence, start, length of its padded data)
    padded = []
    for i, inputs in enumerate(sequences):
        num_frames = len(inputs)
        if num_frames == 0:
            raise ValueError('the sequence has 0 frames')
        data = np.asarray(inputs, dtype=np.float32)
        length, offset = seq_len, 0
        if num_frames < seq_len:
            if pad_mode == 'none':
                length = num_frames
            else:
                offset = (seq_len - num_frames) // 2
                data = np.pad(data, [(offset, seq_len - num_frames - offset)] + [(0, 0)] *
                              (data.ndim - 1), mode='edge')
        padded.append((data, offset, num_frames, length))
        windows += [(i, s) for s in clip_starts(len(data), length, step)]
    sums = [None] * len(sequences)
    weight_sums = [np.zeros(len(d)) for d, *_ in padded]
    counts = np.bincount([i for i, _ in windows], minlength=len(sequences))
    # windows of one length batch together (all but pad_mode='none' short ones share seq_len)
    order = sorted(range(len(windows)), key=lambda k: padded[windows[k][0]][3])
    batches = []
    for k in order:
        length = padded[windows[k][0]][3]
        if batches and len(batches[-1]) < batch_size and \
                padded[windows[batches[-1][0]][0]][3] == length:
            batches[-1].append(k)
        else:
            batches.append([k])
    for batch in tqdm(batches, desc='lifting', unit='batch', disable=not progress):
        length = padded[windows[batch[0]][0]][3]
        chunk = np.stack([padded[windows[k][0]][0][windows[k][1]:windows[k][1] + length]
                          for k in batch])
        with torch.no_grad():
            pred = predict(torch.from_numpy(chunk).to(device)).detach().cpu().double().numpy()
        for k, p in zip(batch, pred):
            i, start = windows[k]
            weights = window_weights(length) if counts[i] > 1 else np.ones(length)
            if sums[i] is None:
                sums[i] = np.zeros((len(padded[i][0]), ) + pred.shape[2:])
            sums[i][start:start + length] += weights[:, None, None] * p
            weight_sums[i][start:start + length] += weights
    out = []
    for i, (data, offset, num_frames, _) in enumerate(padded):
        mean = sums[i] / weight_sums[i][:, None, None]
        out.append(mean[offset:offset + num_frames].astype(np.float32))
    return out


# ------------------------------------------------------------------------------- inference
@dataclass
class LiftingResult:
    """Output of :func:`inference_lifting`.

    Attributes:
        keypoints_3d: (T, J, 3) float32, root-relative, normalised screen units (see UNITS).
        inputs: (T, J, 3) the model's input: normalised x, y and confidence.
        keypoints_2d: (T, J, 2) pixel keypoints after filling undetected joints.
        scores: (T, J) confidences given (0 = not detected).
        filled: (T, J) bool, True where coordinates were interpolated.
        image_size: (w, h) pixels.
        root_index: the root joint.
        camera: the intrinsics used (:class:`~dualpose.codecs.CameraIntrinsics`; its
            ``source`` says whether they were given or the default).
        trajectory: (T, 3) the trajectory head's ``(du, dv, d)``, or None (no head).
        root_camera: (T, 3) float32 mm, the root in the camera frame, or None.
        keypoints_3d_camera: (T, J, 3) float32 mm, camera frame (CAMERA_UNITS), or None.
    """
    keypoints_3d: np.ndarray
    inputs: np.ndarray
    keypoints_2d: np.ndarray
    scores: np.ndarray
    filled: np.ndarray
    image_size: Tuple[float, float]
    root_index: int = 0
    units: str = UNITS
    camera: Optional[CameraIntrinsics] = None
    trajectory: Optional[np.ndarray] = None
    root_camera: Optional[np.ndarray] = None
    keypoints_3d_camera: Optional[np.ndarray] = None

    def keypoints_3d_pixels(self) -> np.ndarray:
        """(T, J, 3) root-relative, in pixels (depth in the same pixel scale)."""
        return screen_to_pixels(self.keypoints_3d, self.image_size[0]).astype(np.float32)

    def keypoints_3d_mm(self, factor_2_5d=None) -> np.ndarray:
        """(T, J, 3) root-relative millimetres: from the camera-space pose when the model has
        a trajectory head (``factor_2_5d`` None), else given mm per pixel (scalar or (T,))."""
        if factor_2_5d is None:
            if self.keypoints_3d_camera is None:
                raise ValueError('keypoints_3d_mm() needs the 2.5D factor (mm per pixel) for a '
                                 'model without a trajectory head')
            k = self.keypoints_3d_camera
            return (k - k[:, self.root_index:self.root_index + 1]).astype(np.float32)
        return normalized_to_mm(self.keypoints_3d, self.image_size[0], factor_2_5d,
                                self.root_index).astype(np.float32)


def prepare_lifting(meta: Dict, keypoints, image_size: Sequence[float], scores=None,
                    converter: Union[None, str, Dict] = None, where: str = 'keypoints'
                    ) -> LiftingResult:
    """Everything :func:`inference_lifting` does before the model: the checks, the joint-set
    conversion, the filling of undetected joints and the encoding. Returns a
    :class:`LiftingResult` whose ``keypoints_3d`` is None until a model lifts ``inputs``
    (``meta``: the model's ``dataset_meta``)."""
    w, h = check_image_size(image_size, where)
    xy, conf, _ = check_keypoints(keypoints, scores, (w, h), where)
    if converter is not None:
        from dualpose.keypoints import build_converter
        xy, conf = build_converter(converter)(xy, conf)
    num_joints = meta['num_joints']
    if xy.shape[1] != num_joints:
        raise ValueError(f'the model lifts {num_joints} joints ({meta.get("dataset_name", "")} '
                         f'order), the keypoints have {xy.shape[1]}; pass converter= '
                         "('coco17', 'halpe26') to convert them")
    xy, filled = fill_missing(xy, conf)
    root = int(meta.get('root_index', 0))
    inputs = ScreenLiftingCodec(root_index=root).encode(xy, (w, h), conf)['lifting_inputs']
    return LiftingResult(None, inputs, xy, conf.astype(np.float32), filled, (w, h), root)


def _model_meta(model):
    meta = getattr(model, 'dataset_meta', None)
    if meta is None:
        raise AttributeError('the model has no dataset_meta (skeleton, flips, root joint): '
                             'build it with dualpose.apis.init_model or set '
                             'model.dataset_meta = parse_metainfo(dataset_info)')
    return meta


def _check_stride(stride):
    if stride is not None and (isinstance(stride, bool) or not isinstance(stride, int)
                               or stride < 1):
        raise ValueError(f'stride must be an integer >= 1 (frames between windows), got '
                         f'{stride!r}')


def has_trajectory(model) -> bool:
    """Whether ``model`` predicts the root's camera-space position (a trajectory head)."""
    return getattr(model, 'traj_head', None) is not None and \
        hasattr(model, 'predict_with_trajectory')


def _lift(model, meta, prepared: Sequence[LiftingResult], flip_test, seq_len, stride,
          batch_size, pad_mode, progress):
    """Lift the prepared sequences in shared batches; fills ``keypoints_3d`` (and
    ``trajectory`` with a trajectory head) of each."""
    root = int(meta.get('root_index', 0))
    flip_indices = meta['flip_indices'] if flip_test else None
    device = next(model.parameters()).device
    traj = has_trajectory(model)

    def predict(x):
        if not traj:
            return model.predict_coords(x, flip_indices, root)
        pose, t = model.predict_with_trajectory(x, flip_indices, root)
        return torch.cat([pose, t[..., None, :]], -2)   # the trajectory as one more row

    saved = model.test_cfg.get('flip_test')
    model.test_cfg['flip_test'] = bool(flip_test)
    try:
        preds = sliding_window_predict_many(
            predict, [p.inputs for p in prepared], seq_len or getattr(model, 'seq_len', 243),
            stride, batch_size, pad_mode, device, progress)
    finally:
        model.test_cfg['flip_test'] = saved
    codec = ScreenLiftingCodec(root_index=root)
    for p, pred in zip(prepared, preds):
        if traj:
            pred, p.trajectory = pred[:, :-1], pred[:, -1]
        p.keypoints_3d = codec.decode(pred)['pred']


def _to_camera(result: LiftingResult, camera: CameraIntrinsics) -> None:
    """Fill ``root_camera`` and ``keypoints_3d_camera`` from the trajectory (mm)."""
    result.camera = camera
    if result.trajectory is None:
        return
    size = np.asarray(result.image_size, dtype=np.float64)
    k = camera.as_array()
    root2d = result.inputs[:, result.root_index, :2].astype(np.float64)
    result.root_camera = root_from_trajectory(result.trajectory.astype(np.float64), root2d,
                                              size, k).astype(np.float32)
    result.keypoints_3d_camera = camera_space_pose(
        result.keypoints_3d.astype(np.float64), result.root_camera.astype(np.float64), size,
        k).astype(np.float32)


def inference_lifting(model, keypoints, image_size: Sequence[float], scores=None,
                      converter: Union[None, str, Dict] = None, flip_test: bool = True,
                      seq_len: Optional[int] = None, stride: Optional[int] = None,
                      batch_size: int = 32, pad_mode: str = 'edge',
                      progress: bool = False, camera=None) -> LiftingResult:
    """Lift one person's 2D keypoint sequence of any length to root-relative 3D, and with a
    trajectory head to millimetres in the camera frame.

    Args:
        model: a lifter from :func:`init_model` (needs ``dataset_meta``).
        keypoints: (T, J, 2) or (T, J, 3) pixels (third channel: confidence).
        image_size: (w, h) pixels of the video the keypoints come from.
        scores: (T, J) confidences; overrides a third keypoint channel; default 1.
            Joints with confidence 0 are treated as not detected (see :func:`fill_missing`);
            their coordinates may be anything, NaN included.
        converter: a joint-set name or converter config (``'coco17'``, ``'halpe26'``) applied
            first; None when the keypoints are already in the model's joint order.
        flip_test: average with the prediction of the mirrored input (default True).
        seq_len: window length; default the one the model was trained with.
        stride: window step; default ``seq_len // 2``.
        pad_mode: short sequences: ``'edge'`` (pad to one window) or ``'none'``.
        camera: the intrinsics in pixels: ``dict(focal=(fx, fy), principal=(cx, cy))``,
            ``(fx, fy, cx, cy)`` or a :class:`~dualpose.codecs.CameraIntrinsics`; None: the
            documented default from the image size (``result.camera.source`` says so).
            Refused with the value named when it cannot be right (focal <= 0, principal
            point outside the image).

    Returns:
        LiftingResult.
    """
    meta = _model_meta(model)
    _check_stride(stride)
    prepared = prepare_lifting(meta, keypoints, image_size, scores, converter)
    cam = make_camera(camera, prepared.image_size)
    _lift(model, meta, [prepared], flip_test, seq_len, stride, batch_size, pad_mode, progress)
    _to_camera(prepared, cam)
    return prepared


@dataclass
class PeopleLiftingResult:
    """Output of :func:`inference_people`: P people over the T frames of a video, NaN where a
    person is absent (or was skipped).

    Attributes:
        track_ids: (P,) int64.
        status: per person ``'lifted'``, ``'padded'`` (shorter than the model's window:
            lifted with the first and last frames repeated to fill it) or ``'skipped'``.
        notes: per person, a sentence saying what was done and why.
        present: (P, T) bool, the person has a detected joint in the frame.
        keypoints_3d: (P, T, J, 3) root-relative, normalised screen units.
        keypoints_2d: (P, T, J, 2) pixels, undetected joints filled in.
        scores, filled: (P, T, J).
        image_size, root_index, camera: as :class:`LiftingResult`.
        root_camera: (P, T, 3) mm; keypoints_3d_camera: (P, T, J, 3) mm (CAMERA_UNITS); None
            without a trajectory head.
        smoothing: ``'off'`` or the filter's settings.
    """
    track_ids: np.ndarray
    status: list
    notes: list
    present: np.ndarray
    keypoints_3d: np.ndarray
    keypoints_2d: np.ndarray
    scores: np.ndarray
    filled: np.ndarray
    image_size: Tuple[float, float]
    root_index: int
    camera: CameraIntrinsics
    root_camera: Optional[np.ndarray] = None
    keypoints_3d_camera: Optional[np.ndarray] = None
    smoothing: str = 'off'
    units: str = UNITS

    @property
    def num_people(self) -> int:
        return len(self.track_ids)

    def keypoints_3d_pixels(self) -> np.ndarray:
        """(P, T, J, 3) root-relative pixels."""
        return screen_to_pixels(self.keypoints_3d, self.image_size[0]).astype(np.float32)

    def keypoints_3d_mm(self) -> Optional[np.ndarray]:
        """(P, T, J, 3) root-relative mm from the camera-space pose (None without it)."""
        k = self.keypoints_3d_camera
        if k is None:
            return None
        return (k - k[:, :, self.root_index:self.root_index + 1]).astype(np.float32)


def inference_people(model, keypoints, image_size: Optional[Sequence[float]] = None,
                     scores=None,
                     track_ids=None, converter: Union[None, str, Dict] = None,
                     flip_test: bool = True, seq_len: Optional[int] = None,
                     stride: Optional[int] = None, batch_size: int = 32,
                     min_track_frames: int = 1, camera=None, smoothing=None,
                     fps: Optional[float] = None, progress: bool = False
                     ) -> PeopleLiftingResult:
    """Lift every person of a video: P tracks, in shared batches.

    Args:
        keypoints: (P, T, J, 2|3) pixels, or a :class:`~dualpose.keypoints.KeypointTracks`
            (then ``scores``, ``track_ids`` and, when None, ``image_size`` come from it). A
            person is absent from a frame where all its confidences are 0.
        track_ids: (P,) ids; default 0..P-1.
        min_track_frames: people detected in fewer frames are skipped (and said so).
        camera: intrinsics as :func:`inference_lifting` (one camera for the video).
        smoothing: None (off) or an :class:`~dualpose.apis.smoothing.OneEuroSmoothing`;
            needs ``fps``. Applied per person to the camera-space joints (mm) with a
            trajectory head, else to the root-relative pose.
        Others as :func:`inference_lifting`.

    Each person is lifted over the frames from its first to its last detection; frames in
    between without it are interpolated for the model (as undetected joints are) and, like
    every frame without it, NaN in its outputs. A person seen in fewer frames than the
    model's window is padded (status ``'padded'``).

    Raises:
        ValueError: no person with a detected joint; a bad camera; the checks of
            :func:`inference_lifting` (the message names the track).
    """
    meta = _model_meta(model)
    _check_stride(stride)
    if hasattr(keypoints, 'track_ids') and hasattr(keypoints, 'keypoints'):
        tracks = keypoints
        keypoints, scores = tracks.keypoints, tracks.scores
        track_ids = tracks.track_ids if track_ids is None else track_ids
        image_size = tracks.image_size if image_size is None else image_size
    if image_size is None:
        raise ValueError('image_size (w, h) in pixels is needed')
    w, h = check_image_size(image_size)
    kpts = np.asarray(keypoints, dtype=np.float64)
    if kpts.ndim != 4 or kpts.shape[-1] not in (2, 3):
        raise ValueError(f'keypoints of several people must have shape (P, T, J, 2|3), got '
                         f'{kpts.shape}')
    num, frames = kpts.shape[:2]
    conf = (np.asarray(scores, dtype=np.float64) if scores is not None else
            kpts[..., 2] if kpts.shape[-1] == 3 else np.ones(kpts.shape[:3]))
    if conf.shape != kpts.shape[:3]:
        raise ValueError(f'scores must have shape {kpts.shape[:3]} (P, T, J), got {conf.shape}')
    ids = np.arange(num) if track_ids is None else np.asarray(track_ids).reshape(-1)
    if len(ids) != num:
        raise ValueError(f'{len(ids)} track_ids for {num} people')
    present = (np.nan_to_num(conf) > 0).any(-1)
    if num == 0 or not present.any():
        raise ValueError(f'no person to lift: {num} tracks and no detected joint (confidence '
                         f'> 0) in any of the {frames} frames')
    if isinstance(min_track_frames, bool) or int(min_track_frames) != min_track_frames or \
            min_track_frames < 1:
        raise ValueError(f'min_track_frames must be an integer >= 1, got {min_track_frames!r}')
    cam = make_camera(camera, (w, h))
    window = seq_len or getattr(model, 'seq_len', 243)
    status, notes, jobs = [], [], []
    for p in range(num):
        seen = np.flatnonzero(present[p])
        if len(seen) < min_track_frames:
            status.append('skipped')
            notes.append(f'track {ids[p]}: skipped, detected in {len(seen)} frames, fewer than '
                         f'min_track_frames={min_track_frames}')
            continue
        first, last = int(seen[0]), int(seen[-1])
        prep = prepare_lifting(meta, kpts[p, first:last + 1, :, :2],
                               (w, h), conf[p, first:last + 1], converter,
                               where=f'track {ids[p]}')
        jobs.append((p, first, prep))
        span = last - first + 1
        if span < window:
            status.append('padded')
            notes.append(f'track {ids[p]}: lifted with padding, {span} frames ({len(seen)} '
                         f'detected) are fewer than the model\'s {window}-frame window: the '
                         'first and last frames repeated to fill it')
        else:
            status.append('lifted')
            notes.append(f'track {ids[p]}: lifted, frames {first}..{last} ({len(seen)} '
                         'detected)')
    j = meta['num_joints']
    nan = np.float32('nan')
    out = dict(k3d=np.full((num, frames, j, 3), nan, np.float32),
               k2d=np.full((num, frames, j, 2), nan, np.float32),
               scores=np.zeros((num, frames, j), np.float32),
               filled=np.zeros((num, frames, j), bool))
    traj = has_trajectory(model)
    if traj:
        out['root'] = np.full((num, frames, 3), nan, np.float32)
        out['cam'] = np.full((num, frames, j, 3), nan, np.float32)
    if jobs:
        _lift(model, meta, [prep for _, _, prep in jobs], flip_test, seq_len, stride,
              batch_size, 'edge', progress)
    for p, first, prep in jobs:
        _to_camera(prep, cam)
        sl = slice(first, first + len(prep.inputs))
        mask = present[p, sl]
        view = lambda a: np.where(mask.reshape((-1, ) + (1, ) * (a.ndim - 1)), a, np.nan)
        out['k3d'][p, sl] = view(prep.keypoints_3d)
        out['k2d'][p, sl] = view(prep.keypoints_2d)
        out['scores'][p, sl] = prep.scores
        out['filled'][p, sl] = prep.filled
        if traj:
            out['root'][p, sl] = view(prep.root_camera)
            out['cam'][p, sl] = view(prep.keypoints_3d_camera)
    described = 'off'
    if smoothing is not None:
        if not fps or not np.isfinite(fps) or fps <= 0:
            raise ValueError(f'smoothing needs the frame rate: fps > 0, got {fps!r}')
        described = smoothing.describe(fps)
        root = int(meta.get('root_index', 0))
        for p, _, _ in jobs:
            if traj:
                out['cam'][p] = smoothing(out['cam'][p], fps)
                out['root'][p] = out['cam'][p][:, root]
            out['k3d'][p] = smoothing(out['k3d'][p], fps)
    return PeopleLiftingResult(
        ids.astype(np.int64), status, notes, present, out['k3d'], out['k2d'], out['scores'],
        out['filled'], (w, h), int(meta.get('root_index', 0)), cam, out.get('root'),
        out.get('cam'), described)
