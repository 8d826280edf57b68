"""Packing of action-recognition clips: the lifting inputs plus the clip's class label."""
from typing import Dict

import torch

from dualpose.registry import TRANSFORMS
from .lifting_transforms import PackLiftingInputs


@TRANSFORMS.register_module()
class PackActionInputs(PackLiftingInputs):
    """:class:`PackLiftingInputs`, plus the class index ``action_label`` of the clip as the
    data field ``gt_label`` (a 0-dim int64 tensor) and in the metainfo."""

    def transform(self, results: Dict) -> Dict:
        if 'action_label' not in results:
            raise KeyError(f"PackActionInputs: the clip of video {results.get('video_id')!r} "
                           "has no 'action_label'; use an action dataset "
                           '(Human36mActionDataset, NTURGBDDataset)')
        packed = super().transform(results)
        label = int(results['action_label'])
        packed['data_samples'].set_metainfo(dict(action_label=label))
        packed['data_samples'].gt_label = torch.tensor(label, dtype=torch.long)
        return packed
