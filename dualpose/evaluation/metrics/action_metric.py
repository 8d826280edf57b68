"""Action recognition accuracy: top-k, per class, and the confusion matrix."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from dualpose.evaluation.functional import confusion_matrix, topk_hits
from dualpose.evaluation.functional.clips import to_numpy
from dualpose.registry import METRICS
from dualpose.utils.fileio import atomic_open
from dualpose.utils.table import format_table

__all__ = ['ActionAccuracyMetric']


@METRICS.register_module()
class ActionAccuracyMetric(BaseMetric):
    """Clip-level classification accuracy (percent).

    Returns ``top<k>`` for each ``k`` of ``topk`` (the label among the k highest scores; k is
    clipped to the number of classes C, and a top-k with k >= C, where every clip is a hit,
    is noted in the log and in ``trivial_topk``), ``mean_class_accuracy`` (top-1 per class,
    then the mean over the classes present), ``num_clips``, ``num_classes`` and, with
    ``per_class``, ``accuracy/<class>``. The log shows the per-class table and the confusion
    matrix; ``out_file`` (json) receives them too.

    Each data sample needs ``pred_score`` (C,) and ``gt_label`` (an
    :class:`~dualpose.models.ActionRecognizer` and ``PackActionInputs`` give them); class
    names come from the dataset's metainfo ``classes``.

    Args:
        topk (int | Sequence[int]): the k of the top-k accuracies ((1, 5)).
        per_class (bool): also return each class's accuracy.
        out_file (str, optional): a json file for the full result (confusion matrix
            included), written atomically.
        collect_device (str): device to gather results over ranks.
        prefix (str, optional): prefix of the keys (``'action'``).
    """

    default_prefix: Optional[str] = 'action'

    def __init__(self, topk: Union[int, Sequence[int]] = (1, 5), per_class: bool = True,
                 out_file: Optional[str] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or any(isinstance(k, bool) or not isinstance(k, int) or k < 1
                           for k in topk):
            raise ValueError(f'ActionAccuracyMetric: topk must be integers >= 1, got {topk!r}')
        if out_file is not None and not str(out_file).endswith('.json'):
            raise ValueError(f'ActionAccuracyMetric: out_file must be a .json file, got '
                             f'{out_file!r}')
        self.topk, self.per_class, self.out_file = topk, bool(per_class), out_file

    def process(self, data_batch, data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            missing = [k for k in ('pred_score', 'gt_label') if k not in sample]
            if missing:
                raise KeyError(f"{type(self).__name__}: the sample of video "
                               f"{sample.get('video_id')!r} has no {missing}; an "
                               'ActionRecognizer predicts pred_score, PackActionInputs packs '
                               'gt_label')
            self.results.append(dict(score=to_numpy(sample['pred_score'], np.float32).reshape(-1),
                                     label=int(to_numpy(sample['gt_label']).reshape(())),
                                     video_id=str(sample.get('video_id', ''))))

    def class_names(self, num_classes: int) -> List[str]:
        names = list((self.dataset_meta or {}).get('classes') or [])
        if names and len(names) != num_classes:
            raise ValueError(f'{type(self).__name__}: the dataset names {len(names)} classes, '
                             f'the model scores {num_classes}; set the head\'s num_classes to '
                             'the dataset\'s classes')
        return names or [f'class_{i}' for i in range(num_classes)]

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        name = type(self).__name__
        if not results:
            raise ValueError(f'{name}: no clip was processed')
        sizes = sorted({len(r['score']) for r in results})
        if len(sizes) > 1:
            raise ValueError(f'{name}: clips scored with different numbers of classes {sizes}')
        scores = torch.from_numpy(np.stack([r['score'] for r in results]))
        labels = torch.tensor([r['label'] for r in results], dtype=torch.long)
        num_classes = scores.shape[1]
        classes = self.class_names(num_classes)
        out: Dict[str, float] = {}
        trivial = [k for k in self.topk if k >= num_classes]
        for k in self.topk:
            out[f'top{k}'] = float(topk_hits(scores, labels, k).float().mean()) * 100
        cm = confusion_matrix(scores.argmax(1), labels, num_classes).numpy()
        support = cm.sum(1)
        present = support > 0
        acc = np.where(present, np.diag(cm) / np.maximum(support, 1), np.nan) * 100
        out['mean_class_accuracy'] = float(np.mean(acc[present]))
        out['num_clips'] = int(len(results))
        out['num_classes'] = int(num_classes)
        if self.per_class:
            out.update({f'accuracy/{c}': float(a) for c, a, p in zip(classes, acc, present)
                        if p})
        logger = MMLogger.get_current_instance()
        rows = [[c, int(n), float(a) if p else '-'] for c, n, a, p in
                zip(classes, support, acc, present)]
        text = (f'Action recognition on {len(results)} clips, {num_classes} classes: '
                + ', '.join(f'top-{k} {out[f"top{k}"]:.2f}%' for k in self.topk)
                + f', mean class accuracy {out["mean_class_accuracy"]:.2f}%')
        note = ''
        if trivial:
            note = (f'top-{", top-".join(map(str, trivial))} is trivial here: with '
                    f'{num_classes} classes every clip\'s label is among its '
                    f'{min(trivial)} best scores (100% whatever the model)')
            text += f'\nNote: {note}'
        confusion = format_table([[c] + [int(v) for v in row] for c, row in zip(classes, cm)],
                                 ['true \\ predicted'] + [str(i) for i in range(num_classes)])
        logger.info(f'{text}\n{format_table(rows, ["class", "clips", "top-1 (%)"])}\n'
                    f'Confusion matrix (rows: true class, columns: predicted class index):\n'
                    f'{confusion}')
        if self.out_file:
            import json
            dump = dict(classes=classes, topk={str(k): out[f'top{k}'] for k in self.topk},
                        trivial_topk=trivial, note=note,
                        mean_class_accuracy=out['mean_class_accuracy'],
                        per_class={c: (float(a) if p else None)
                                   for c, a, p in zip(classes, acc, present)},
                        support=[int(n) for n in support], confusion_matrix=cm.tolist(),
                        num_clips=out['num_clips'])
            with atomic_open(osp.abspath(self.out_file), 'w') as f:
                json.dump(dump, f, indent=1)
        return out
