"""Hook that draws lifting results during testing, validation and (optionally) training."""
import os.path as osp
import re
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook

from dualpose.registry import HOOKS
from .local_visualizer import PoseLiftingVisualizer, draw_lifting, write_image


@HOOKS.register_module()
class LiftingVisualizationHook(Hook):
    """Pictures of a sample of clips: 2D input, predicted 3D and ground-truth 3D side by side.

    Test and validation: the first clip of every ``interval``-th batch, at most
    ``max_samples`` per run (``interval=None`` spreads them over the whole dataloader). With
    ``out_dir`` they are written there as PNG files; without, they go to the runner's
    visualiser backends (files of ``LocalVisBackend``, TensorBoard with
    ``TensorboardVisBackend``), named ``val_sample_<k>`` / ``test_sample_<k>`` at the current
    training iteration, so validation pictures of successive epochs line up in TensorBoard.

    Training: with ``train_interval > 0``, every ``train_interval`` iterations the first clip
    of the batch is predicted (eval mode, no gradient) and sent to the backends as
    ``train_sample`` at that iteration.

    Args:
        enable: switch.
        max_samples: pictures per test/validation run.
        interval: batches between pictures; None: ``len(dataloader) // max_samples``.
        out_dir: folder for test/validation pictures (created); None: the backends.
        frames: frames of each clip to draw; default first, middle and last.
        train_interval: iterations between training pictures; 0: none.
    """

    priority = 'LOW'

    def __init__(self, enable: bool = True, max_samples: int = 16,
                 interval: Optional[int] = None, out_dir: Optional[str] = None,
                 frames: Optional[Sequence[int]] = None, train_interval: int = 0):
        if max_samples < 1:
            raise ValueError(f'max_samples must be >= 1, got {max_samples}')
        if interval is not None and interval < 1:
            raise ValueError(f'interval must be >= 1 or None, got {interval}')
        self.enable = enable
        self.max_samples = max_samples
        self.interval = interval
        self.out_dir = out_dir
        self.frames = list(frames) if frames is not None else None
        self.train_interval = train_interval
        self._interval = 1
        self._count = 0
        self.saved = []

    # ----------------------------------------------------------------------- helpers
    @staticmethod
    def _skeleton(runner):
        meta = getattr(runner.visualizer, 'dataset_meta', None)
        if not meta:
            loop = getattr(runner, '_test_loop', None) or getattr(runner, '_val_loop', None)
            dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
            meta = getattr(dataset, 'metainfo', None)
        if not meta or 'skeleton_links' not in meta:
            raise ValueError('LiftingVisualizationHook needs the dataset metainfo '
                             '(skeleton_links, flip_pairs) to draw')
        return meta['skeleton_links'], meta.get('flip_pairs', ())

    def _draw(self, runner, sample, inputs) -> np.ndarray:
        links, flip_pairs = self._skeleton(runner)
        pred, gt = sample.get('pred'), sample.get('gt_target')
        t = len(pred if pred is not None else gt)
        frames = [f for f in self.frames if 0 <= f < t] if self.frames else None
        title = str(sample.metainfo.get('video_id', ''))
        if isinstance(runner.visualizer, PoseLiftingVisualizer):
            return runner.visualizer.draw_lifting(pred, gt, inputs, frames, title)
        return draw_lifting(links, flip_pairs, pred, gt, inputs, frames, title)

    def _reset(self, num_batches: int) -> None:
        self._count = 0
        self._interval = self.interval or max(num_batches // self.max_samples, 1)

    def _evaluation_iter(self, runner, batch_idx, data_batch, outputs, tag: str) -> None:
        if not self.enable or self._count >= self.max_samples or not outputs:
            return
        if batch_idx % self._interval:
            return
        sample = outputs[0]
        inputs = data_batch['inputs'][0] if data_batch and 'inputs' in data_batch else None
        img = self._draw(runner, sample, inputs)
        if self.out_dir:
            video = re.sub(r'[^A-Za-z0-9_.-]+', '_', str(sample.metainfo.get('video_id', 'clip')))
            start = sample.metainfo.get('frame_indices')
            start = int(np.asarray(start)[0]) if start is not None and len(start) else batch_idx
            path = osp.join(self.out_dir, f'{tag}_{self._count:03d}_{video}_{start:06d}.png')
            write_image(path, img)
            self.saved.append(path)
        else:
            runner.visualizer.add_image(f'{tag}_sample_{self._count}', img, step=runner.iter)
        self._count += 1

    # ----------------------------------------------------------------------- test / val
    def before_test(self, runner) -> None:
        self._reset(len(runner.test_dataloader))

    def before_val(self, runner) -> None:
        self._reset(len(runner.val_dataloader))

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._evaluation_iter(runner, batch_idx, data_batch, outputs, 'test')

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._evaluation_iter(runner, batch_idx, data_batch, outputs, 'val')

    # ----------------------------------------------------------------------- train
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if not self.enable or self.train_interval <= 0 or data_batch is None:
            return
        step = runner.iter + 1
        if step % self.train_interval:
            return
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                data = model.data_preprocessor(data_batch, False)
                samples = model(data['inputs'][:1], data['data_samples'][:1], mode='predict')
        finally:
            model.train(was_training)
        img = self._draw(runner, samples[0], data['inputs'][0])
        runner.visualizer.add_image('train_sample', img, step=step)
