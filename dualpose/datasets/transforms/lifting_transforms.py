"""Pipeline steps for lifting: screen normalisation, random left-right flip, packing."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from dualpose.codecs import ScreenLiftingCodec, flip_camera_intrinsics, flip_pose
from dualpose.registry import KEYPOINT_CODECS, TRANSFORMS
from dualpose.structures import PoseDataSample


@TRANSFORMS.register_module()
class NormalizeScreen(BaseTransform):
    """Builds the model input and the training target in normalised screen units.

    Reads ``keypoints_2d`` (T, J, 2) pixels, ``keypoint_scores`` (T, J), ``target_3d``
    (T, J, 3) pixel-scaled 3D, ``image_size`` (w, h); writes ``lifting_inputs`` (T, J, 3)
    = (x, y, confidence) and ``lifting_target`` (T, J, 3), made root-relative when
    ``root_relative``. ``target_mm`` (millimetres) is made root-relative as well. The
    arithmetic is the codec's (``codec``, default :class:`~dualpose.codecs.ScreenLiftingCodec`).
    """

    def __init__(self, root_relative: bool = True, codec: Optional[Dict] = None):
        self.root_relative = root_relative
        self.codec = ScreenLiftingCodec(root_relative=root_relative) if codec is None \
            else KEYPOINT_CODECS.build(dict(dict(root_relative=root_relative), **codec))

    def transform(self, results: Dict) -> Dict:
        results.update(self.codec.encode(
            results['keypoints_2d'], results['image_size'], results['keypoint_scores'],
            target_3d=results.get('target_3d'), target_mm=results.get('target_mm'),
            root_index=results['root_index']))
        return results


@TRANSFORMS.register_module()
class RandomFlipLifting(BaseTransform):
    """Mirror the clip left-right with probability ``prob``: negate x (normalised screen units,
    so the mirror axis is the image centre) and swap joints by ``flip_indices``. Applied to the
    input, the target and ``target_mm`` alike."""

    def __init__(self, prob: float = 0.5):
        self.prob = prob

    def transform(self, results: Dict) -> Dict:
        rng = results.get('rng', np.random)  # the sample's own generator when there is one
        if rng.random() >= self.prob:
            return results
        idx = results['flip_indices']
        for key in ('lifting_inputs', 'lifting_target', 'target_mm', 'target_camera'):
            if key in results:
                results[key] = flip_pose(results[key], idx)
        if 'camera_intrinsics' in results:
            results['camera_intrinsics'] = flip_camera_intrinsics(
                results['camera_intrinsics'], results['image_size'][0])
        results['flipped'] = True
        return results


@TRANSFORMS.register_module()
class PackLiftingInputs(BaseTransform):
    """Pack into ``dict(inputs=Tensor(T, J, 3), data_samples=PoseDataSample)``."""

    def __init__(self, meta_keys: Sequence[str] = (
            'sample_idx', 'video_id', 'action', 'camera_name', 'image_size', 'frame_indices',
            'factor_2_5d', 'flip_indices', 'root_index', 'flipped', 'frame_valid',
            'camera_intrinsics')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        sample = PoseDataSample(
            metainfo={k: results[k] for k in self.meta_keys if k in results})
        if 'lifting_target' in results:
            sample.gt_target = torch.from_numpy(np.ascontiguousarray(results['lifting_target']))
        if 'target_mm' in results:
            sample.gt_mm = torch.from_numpy(np.ascontiguousarray(results['target_mm']))
        if 'target_camera' in results:   # (T, J, 3) mm, camera frame
            sample.gt_camera = torch.from_numpy(
                np.ascontiguousarray(results['target_camera'], dtype=np.float32))
        inputs = torch.from_numpy(np.ascontiguousarray(results['lifting_inputs']))
        return dict(inputs=inputs, data_samples=sample)
