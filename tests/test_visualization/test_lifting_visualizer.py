"""The registered lifting visualiser, the animation renderer/writers and the hook."""
import os

import cv2
import numpy as np
import pytest
import torch

from dualpose.registry import HOOKS, VISUALIZERS
from dualpose.structures import PoseDataSample
from dualpose.visualization import (AnimationWriter, LiftingVisualizationHook,
                                    PoseLiftingVisualizer, SkeletonAnimator, draw_lifting)
from tests.conftest import H36M_FLIP_PAIRS, H36M_LINKS

META = dict(skeleton_links=H36M_LINKS, flip_pairs=H36M_FLIP_PAIRS)


def standing(num_frames=5, arms_up=False):
    """A crude upright H36M pose (x right, y down, z forward), root at the origin."""
    p = np.zeros((17, 3), np.float32)
    p[1], p[4] = [-0.1, 0, 0], [0.1, 0, 0]
    p[2], p[5] = [-0.1, 0.4, 0], [0.1, 0.4, 0]
    p[3], p[6] = [-0.1, 0.8, 0], [0.1, 0.8, 0]
    p[7], p[8], p[9], p[10] = [0, -0.25, 0], [0, -0.5, 0], [0, -0.6, 0.05], [0, -0.7, 0]
    p[11], p[14] = [0.15, -0.5, 0], [-0.15, -0.5, 0]
    hand = -1 if arms_up else 1
    p[12], p[15] = [0.2, -0.5 + hand * 0.25, 0], [-0.2, -0.5 + hand * 0.25, 0]
    p[13], p[16] = [0.2, -0.5 + hand * 0.5, 0], [-0.2, -0.5 + hand * 0.5, 0]
    return np.repeat(p[None], num_frames, 0)


def sample(pred, gt=None):
    ds = PoseDataSample(metainfo=dict(video_id='s_09_act_02', frame_indices=np.arange(5)))
    ds.pred = torch.from_numpy(pred)
    if gt is not None:
        ds.gt_target = torch.from_numpy(gt)
    return ds


def read_rgb(path):
    img = cv2.imread(str(path))
    assert img is not None, f'{path} is not an image'
    return img[..., ::-1]


def test_registered_and_writes_pictures_that_depend_on_the_pose(tmp_path):
    vis = VISUALIZERS.build(dict(type='PoseLiftingVisualizer', name='vis_pixels',
                                 dataset_meta=META))
    assert isinstance(vis, PoseLiftingVisualizer)
    down, up = standing(), standing(arms_up=True)
    img_a = vis.add_datasample('a', sample(down, down), inputs_2d=down[..., :2],
                               out_file=str(tmp_path / 'a.png'))
    img_b = vis.add_datasample('b', sample(up, down), inputs_2d=up[..., :2],
                               out_file=str(tmp_path / 'b.png'))
    img_c = vis.add_datasample('c', sample(down, down), inputs_2d=down[..., :2],
                               out_file=str(tmp_path / 'c.png'))
    a, b = read_rgb(tmp_path / 'a.png'), read_rgb(tmp_path / 'b.png')
    assert os.path.getsize(tmp_path / 'a.png') > 1000
    assert a.shape == img_a.shape and a.std() > 0            # not a blank canvas
    assert (a != b).any(axis=-1).mean() > 0.005              # different poses, other pixels
    np.testing.assert_array_equal(img_a, img_c)              # same pose, same picture
    assert not [f for f in os.listdir(tmp_path) if f.startswith('.')]   # no temporaries left


def test_prediction_and_ground_truth_side_by_side():
    both = draw_lifting(H36M_LINKS, H36M_FLIP_PAIRS, pred=standing(), gt=standing(),
                        frames=[0])
    pred_only = draw_lifting(H36M_LINKS, H36M_FLIP_PAIRS, pred=standing(), frames=[0])
    assert both.shape[0] == pred_only.shape[0] and both.shape[1] == 2 * pred_only.shape[1]
    three_rows = draw_lifting(H36M_LINKS, H36M_FLIP_PAIRS, pred=standing(), frames=[0, 2, 4])
    assert three_rows.shape[0] == 3 * pred_only.shape[0]
    wide = draw_lifting(H36M_LINKS, H36M_FLIP_PAIRS, pred=standing(), gt=standing(),
                        frames=[0, 2, 4], frames_as_columns=True)
    assert wide.shape[:2] == (2 * pred_only.shape[0], 3 * pred_only.shape[1])
    with pytest.raises(ValueError, match=r'frames \[7\] are out of range for a clip of 5'):
        draw_lifting(H36M_LINKS, H36M_FLIP_PAIRS, pred=standing(), frames=[7])


def test_sends_pictures_to_the_vis_backends(tmp_path):
    vis = PoseLiftingVisualizer(name='vis_backend', dataset_meta=META,
                                vis_backends=[dict(type='LocalVisBackend')],
                                save_dir=str(tmp_path))
    vis.add_datasample('val_sample', sample(standing(), standing()), step=3)
    saved = [os.path.join(r, f) for r, _, fs in os.walk(tmp_path) for f in fs]
    assert any(p.endswith('val_sample_3.png') for p in saved), saved


def test_tensorboard_backend(tmp_path):
    pytest.importorskip('tensorboard')
    vis = PoseLiftingVisualizer(name='vis_tb', dataset_meta=META,
                                vis_backends=[dict(type='TensorboardVisBackend')],
                                save_dir=str(tmp_path))
    vis.add_datasample('train_sample', sample(standing()), step=1)
    vis.close()
    events = [f for _, _, fs in os.walk(tmp_path) for f in fs if 'tfevents' in f]
    assert events


def test_needs_the_skeleton():
    vis = PoseLiftingVisualizer(name='vis_no_meta')
    with pytest.raises(ValueError, match='needs dataset_meta with "skeleton_links"'):
        vis.draw_lifting(standing())
    with pytest.raises(ValueError, match='neither "pred" nor "gt_target"'):
        PoseLiftingVisualizer(name='vis_meta', dataset_meta=META).add_datasample(
            'x', PoseDataSample())


def test_animation_frames_differ_and_files_appear_only_when_committed(tmp_path):
    poses = np.concatenate([standing(3), standing(3, arms_up=True)])
    animator = SkeletonAnimator(poses[..., :2] * 300 + 500, poses, H36M_LINKS, H36M_FLIP_PAIRS,
                                undetected=np.zeros((6, 17), bool))
    first, last = animator.render(0), animator.render(5)
    assert first.shape == last.shape and (first != last).any()
    # same pose, only the frame number in the caption changes
    same_pose = (animator.render(1) != animator.render(2)).any(-1).mean()
    assert same_pose < (first != last).any(-1).mean() / 5
    gif, mp4 = str(tmp_path / 'a.gif'), str(tmp_path / 'a.mp4')
    writer = AnimationWriter(gif, mp4, fps=10)
    for t in range(len(animator)):
        writer.add(animator.render(t))
    done = writer.close()
    assert gif in done and not os.path.exists(gif)            # finished, not yet in place
    assert writer.commit() and os.path.getsize(gif) > 0
    from PIL import Image
    with Image.open(gif) as im:
        assert im.n_frames == 6
    if writer.mp4_available:
        assert os.path.getsize(mp4) > 0
    aborted = AnimationWriter(str(tmp_path / 'b.gif'), str(tmp_path / 'b.mp4'))
    aborted.add(first)
    aborted.close()
    aborted.abort()
    assert sorted(os.listdir(tmp_path)) == sorted(['a.gif'] + (['a.mp4'] if
                                                               writer.mp4_available else []))


def test_hook_is_registered_and_checks_arguments():
    hook = HOOKS.build(dict(type='LiftingVisualizationHook', max_samples=2))
    assert isinstance(hook, LiftingVisualizationHook)
    with pytest.raises(ValueError, match='max_samples must be >= 1, got 0'):
        LiftingVisualizationHook(max_samples=0)
