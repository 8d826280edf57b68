"""Lift a user's 2D keypoint sequence to 3D with a trained model.

    from dualpose.apis import init_model, inference_lifting
    model = init_model('configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py',
                       'demo/checkpoints/dualpose-tiny_synthetic-27f.pth')
    result = inference_lifting(model, keypoints, image_size=(1920, 1080), converter='coco17')
    result.keypoints_3d          # (T, 17, 3) root-relative, normalised screen units

Units. The model works in *normalised screen units*: pixels divided by half the image width
(``x / w * 2 - 1``, ``y / w * 2 - h / w``), so the image is 2 units wide. Its 3D output is
root-relative (pelvis at the origin), x right, y down, z away from the camera, in the same
units: multiply by ``w / 2`` for pixels (``result.keypoints_3d_pixels()``). Millimetres need
the 2.5D factor (mm per pixel at the person's depth: distance / focal length), which a video
alone does not give: ``result.keypoints_3d_mm(factor)``, the conversion the evaluation uses.
"""
import copy
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from dualpose.codecs import ScreenLiftingCodec, normalized_to_mm, screen_to_pixels
from dualpose.datasets.datasets.base import clip_starts
from dualpose.engine.checkpoint import load_weights as engine_load_weights
from dualpose.keypoints.checks import check_image_size, check_keypoints
from dualpose.engine.checkpoint import read_checkpoint
from dualpose.utils.config import window_length

__all__ = [
    'init_model', 'load_weights', 'inference_lifting', 'prepare_lifting',
    'sliding_window_predict', 'fill_missing', 'normalized_to_mm', 'LiftingResult', 'UNITS'
]

UNITS = ('root-relative 3D in normalised screen units: pixels / (image width / 2); x right, '
         'y down, z away from the camera; x (w / 2) for pixels, x (w / 2) x 2.5d_factor for mm')


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
               cfg_options: Optional[Dict] = None):
    """Build a lifter from a config (path or ``Config``), load its weights, set eval mode.

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
    return model.to(device).eval()


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
    from tqdm import tqdm
    if pad_mode not in ('edge', 'none'):
        raise ValueError(f"pad_mode must be 'edge' or 'none', got {pad_mode!r}")
    if seq_len < 1:
        raise ValueError(f'seq_len must be >= 1, got {seq_len}')
    num_frames = len(inputs)
    if num_frames == 0:
        raise ValueError('the sequence has 0 frames')
    stride = stride or max(seq_len // 2, 1)
    if not 1 <= stride <= seq_len:
        raise ValueError(f'stride must be in [1, seq_len={seq_len}], got {stride}')
    data = np.asarray(inputs, dtype=np.float32)
    offset = 0
    if num_frames < seq_len:
        if pad_mode == 'none':
            seq_len = num_frames
        else:
            offset = (seq_len - num_frames) // 2
            data = np.pad(data, [(offset, seq_len - num_frames - offset)] + [(0, 0)] *
                          (data.ndim - 1), mode='edge')
    starts = clip_starts(len(data), seq_len, stride)
    weights = window_weights(seq_len) if len(starts) > 1 else np.ones(seq_len)
    out_sum = None
    weight_sum = np.zeros(len(data))
    batches = range(0, len(starts), batch_size)
    for b in tqdm(batches, desc='lifting', unit='batch', disable=not progress):
        chunk = starts[b:b + batch_size]
        windows = torch.from_numpy(np.stack([data[s:s + seq_len] for s in chunk])).to(device)
        with torch.no_grad():
            pred = predict(windows).detach().cpu().double().numpy()
        if out_sum is None:
            out_sum = np.zeros((len(data), ) + pred.shape[2:])
        for s, p in zip(chunk, pred):
            out_sum[s:s + seq_len] += weights[:, None, None] * p
            weight_sum[s:s + seq_len] += weights
    out = out_sum / weight_sum[:, None, None]
    return out[offset:offset + num_frames].astype(np.float32)


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
    """
    keypoints_3d: np.ndarray
    inputs: np.ndarray
    keypoints_2d: np.ndarray
    scores: np.ndarray
    filled: np.ndarray
    image_size: Tuple[float, float]
    root_index: int = 0
    units: str = UNITS

    def keypoints_3d_pixels(self) -> np.ndarray:
        """(T, J, 3) root-relative, in pixels (depth in the same pixel scale)."""
        return screen_to_pixels(self.keypoints_3d, self.image_size[0]).astype(np.float32)

    def keypoints_3d_mm(self, factor_2_5d) -> np.ndarray:
        """(T, J, 3) root-relative millimetres, given mm per pixel (scalar or (T,))."""
        return normalized_to_mm(self.keypoints_3d, self.image_size[0], factor_2_5d,
                                self.root_index).astype(np.float32)


def prepare_lifting(meta: Dict, keypoints, image_size: Sequence[float], scores=None,
                    converter: Union[None, str, Dict] = None) -> LiftingResult:
    """Everything :func:`inference_lifting` does before the model: the checks, the joint-set
    conversion, the filling of undetected joints and the encoding. Returns a
    :class:`LiftingResult` whose ``keypoints_3d`` is None until a model lifts ``inputs``
    (``meta``: the model's ``dataset_meta``)."""
    w, h = check_image_size(image_size)
    xy, conf, _ = check_keypoints(keypoints, scores, (w, h))
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


def inference_lifting(model, keypoints, image_size: Sequence[float], scores=None,
                      converter: Union[None, str, Dict] = None, flip_test: bool = True,
                      seq_len: Optional[int] = None, stride: Optional[int] = None,
                      batch_size: int = 32, pad_mode: str = 'edge',
                      progress: bool = False) -> LiftingResult:
    """Lift one person's 2D keypoint sequence of any length to root-relative 3D.

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

    Returns:
        LiftingResult.
    """
    meta = getattr(model, 'dataset_meta', None)
    if meta is None:
        raise AttributeError('the model has no dataset_meta (skeleton, flips, root joint): '
                             'build it with dualpose.apis.init_model or set '
                             'model.dataset_meta = parse_metainfo(dataset_info)')
    if stride is not None and (isinstance(stride, bool) or not isinstance(stride, int)
                               or stride < 1):
        raise ValueError(f'stride must be an integer >= 1 (frames between windows), got '
                         f'{stride!r}')
    prepared = prepare_lifting(meta, keypoints, image_size, scores, converter)
    inputs, root = prepared.inputs, prepared.root_index
    codec = ScreenLiftingCodec(root_index=root)
    flip_indices = meta['flip_indices'] if flip_test else None
    device = next(model.parameters()).device
    saved = model.test_cfg.get('flip_test')
    model.test_cfg['flip_test'] = bool(flip_test)
    try:
        pred = sliding_window_predict(
            lambda x: model.predict_coords(x, flip_indices, root), inputs,
            seq_len or getattr(model, 'seq_len', 243), stride, batch_size, pad_mode, device,
            progress)
    finally:
        model.test_cfg['flip_test'] = saved
    prepared.keypoints_3d = codec.decode(pred)['pred']
    return prepared
