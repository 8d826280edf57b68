"""Write the predictions of a test run to a pickle, one entry per video with per-frame arrays."""
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from dualpose.evaluation.functional.clips import assemble_videos, read_clip
from dualpose.registry import METRICS
from dualpose.utils.fileio import atomic_open

DUMP_FORMAT = 'dualpose-lifting-results'
DUMP_VERSION = 1


@METRICS.register_module()
class DumpLiftingResults(BaseMetric):
    """Dump the predictions per video, each frame once, to ``out_file_path`` (a pickle).

    ``tools/test.py --dump FILE`` adds this evaluator. The file holds::

        {'format': 'dualpose-lifting-results', 'version': 1,
         'joint_names': [...],             # from the dataset metainfo (may be empty)
         'videos': {video_id: {
             'action': str, 'camera_name': str, 'image_size': (w, h),
             'frame_indices': (F,) int64,  # the video's frames (indices in the split), sorted
             'pred': (F, J, 3) float32,    # root-relative, normalised screen units (model output)
             'pred_mm': (F, J, 3) float32, # root-relative millimetres   [if factor_2_5d known]
             'gt_mm': (F, J, 3) float32,   # root-relative millimetres   [if 3D labels]
             'valid': (F,) bool,           # frames scored by the metric [if frame_valid]
         }}}

    A frame covered by several overlapping test windows holds the mean of their predictions,
    the same per-frame assembly the metrics score. Nothing is skipped (skip lists belong to
    the metrics). The file is written atomically (``dualpose.utils.fileio.atomic_open``).

    Args:
        out_file_path (str): the pickle to write (``.pkl`` or ``.pickle``).
        collect_device (str): device to gather results over ranks. Defaults to ``'cpu'``.
    """

    def __init__(self, out_file_path: str, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not str(out_file_path).endswith(('.pkl', '.pickle')):
            raise ValueError(f'DumpLiftingResults: out_file_path must be a .pkl file, got '
                             f'{out_file_path!r}')
        self.out_file_path = str(out_file_path)

    def process(self, data_batch, data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            clip = read_clip(sample, type(self).__name__)
            clip.pop('root')
            self.results.append(clip)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        videos = {}
        for clips, frames, arrays in assemble_videos(results, ('pred', 'pred_mm'),
                                                     ('gt_mm', 'valid')):
            first = clips[0]
            video = dict(action=first['action'], camera_name=first['camera_name'],
                         image_size=first['image_size'], frame_indices=frames)
            for key, value in arrays.items():
                video[key] = value if key == 'valid' else value.astype(np.float32)
            videos[first['video_id']] = video
        dump = dict(format=DUMP_FORMAT, version=DUMP_VERSION,
                    joint_names=list((self.dataset_meta or {}).get('joint_names') or []),
                    videos=videos)
        path = osp.abspath(self.out_file_path)
        with atomic_open(path, 'wb') as f:
            pickle.dump(dump, f, protocol=4)
        MMLogger.get_current_instance().info(
            f'predictions of {len(videos)} videos '
            f'({sum(len(v["frame_indices"]) for v in videos.values())} frames) dumped to {path}')
        return {}
