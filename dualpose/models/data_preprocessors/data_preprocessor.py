from typing import Dict

import torch
from mmengine.model import BaseDataPreprocessor

from dualpose.registry import MODELS


@MODELS.register_module()
class LiftingDataPreprocessor(BaseDataPreprocessor):
    """Stacks the clips of a batch into (B, T, J, C) and moves inputs and samples to the
    model's device."""

    def forward(self, data: Dict, training: bool = False) -> Dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) > 1:
                raise ValueError(f'clips in one batch must share a shape, got {sorted(shapes)}')
            inputs = torch.stack(list(inputs))
        return dict(inputs=inputs.float(), data_samples=data.get('data_samples'))
