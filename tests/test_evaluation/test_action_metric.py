"""ActionAccuracyMetric on hand-computed cases: top-1 and top-5 with known scores, top-k
clipped (and said trivial) with few classes, per-class accuracy, the confusion matrix, the
json file, and bad input."""
import json

import pytest
import torch

from dualpose.evaluation.functional import confusion_matrix, topk_hits
from dualpose.registry import METRICS


def run(scores, labels, classes=None, **kwargs):
    metric = METRICS.build(dict(type='ActionAccuracyMetric', **kwargs))
    metric.dataset_meta = dict(classes=classes) if classes else {}
    metric.process(None, [dict(pred_score=torch.tensor(s, dtype=torch.float32),
                               gt_label=torch.tensor(y), video_id=f'v{i}')
                          for i, (s, y) in enumerate(zip(scores, labels))])
    return metric.evaluate(len(scores))


# 7 classes; the label's rank in each row: 1, 2, 6, 1, 7 (rank 1 = the highest score)
SCORES = [[9, 1, 2, 3, 4, 5, 6],      # label 0: rank 1
          [1, 9, 8, 3, 4, 5, 6],      # label 2: rank 2
          [7, 6, 5, 4, 3, 2, 1],      # label 5: rank 6
          [0, 0, 0, 9, 1, 2, 3],      # label 3: rank 1
          [6, 5, 4, 3, 2, 1, 0]]      # label 6: rank 7
LABELS = [0, 2, 5, 3, 6]


def test_top1_top5_by_hand(tmp_path):
    out_file = tmp_path / 'acc.json'
    classes = [f'c{i}' for i in range(7)]
    res = run(SCORES, LABELS, classes, out_file=str(out_file))
    assert res['action/top1'] == pytest.approx(2 / 5 * 100)
    assert res['action/top5'] == pytest.approx(3 / 5 * 100)   # ranks 1, 2, 1
    assert res['action/num_clips'] == 5 and res['action/num_classes'] == 7
    # per class: classes 0 and 3 right, 2, 5 and 6 wrong, 1 and 4 absent
    assert res['action/accuracy/c0'] == 100 and res['action/accuracy/c2'] == 0
    assert 'action/accuracy/c1' not in res
    assert res['action/mean_class_accuracy'] == pytest.approx(2 / 5 * 100)
    dump = json.loads(out_file.read_text())
    cm = dump['confusion_matrix']
    assert cm[2][1] == 1 and cm[5][0] == 1 and cm[6][0] == 1 and cm[0][0] == 1
    assert sum(map(sum, cm)) == 5 and dump['classes'] == classes
    assert dump['trivial_topk'] == [] and dump['per_class']['c1'] is None


def test_topk_clipped_and_trivial_with_few_classes(tmp_path):
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('action_metric_test', log_file=str(tmp_path / 'log.txt'))
    assert MMLogger.get_current_instance() is logger
    res = run([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]], [2, 0, 1], ['a', 'b', 'c'])
    assert res['action/top1'] == pytest.approx(100 / 3)
    assert res['action/top5'] == 100.0   # k clipped to the 3 classes: every clip is a hit
    text = (tmp_path / 'log.txt').read_text()
    assert 'top-5 is trivial here: with 3 classes' in text
    assert 'Confusion matrix' in text


def test_functional_pieces():
    scores = torch.tensor(SCORES, dtype=torch.float32)
    labels = torch.tensor(LABELS)
    assert topk_hits(scores, labels, 1).tolist() == [True, False, False, True, False]
    assert topk_hits(scores, labels, 6).tolist() == [True, True, True, True, False]
    assert topk_hits(scores, labels, 99).all()
    cm = confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 2]), 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 6\]'):
        topk_hits(scores, torch.tensor([0, 1, 2, 3, 7]), 1)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match='names 3 classes, the model scores 2'):
        run([[0.1, 0.9]], [1], ['a', 'b', 'c'])
    metric = METRICS.build(dict(type='ActionAccuracyMetric'))
    with pytest.raises(KeyError, match="video 'v7' has no \\['gt_label'\\]"):
        metric.process(None, [dict(pred_score=torch.zeros(3), video_id='v7')])
    with pytest.raises(ValueError, match='topk must be integers >= 1'):
        METRICS.build(dict(type='ActionAccuracyMetric', topk=(0, 5)))
