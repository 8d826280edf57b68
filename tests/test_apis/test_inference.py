"""Inference API: windowing (exact on one window, continuous across borders), short sequences,
undetected joints, flip averaging, units, and loading checkpoints."""
import os

import numpy as np
import pytest
import torch

from dualpose.apis import (fill_missing, inference_lifting, init_model, load_weights,
                           normalized_to_mm, sliding_window_predict)
from dualpose.apis.inference import window_weights
from tests.conftest import REPO_ROOT

CONFIG = os.path.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')
TINY = {'model.backbone.arch.embed_dims': 16, 'model.backbone.arch.depth': 1,
        'model.head.in_channels': 16, 'model.head.hidden_dims': 32,
        'test_dataloader.dataset.seq_len': 9}


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_model(CONFIG, cfg_options=TINY)


def walk(num_frames, seed=0):
    """A smooth 2D sequence in pixels (a 1000x1000 image): a stick figure drifting right."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(400, 600, (17, 2))
    t = np.arange(num_frames)[:, None, None]
    wobble = 15 * np.sin(t / 7.0 + rng.uniform(0, 6, (1, 17, 1)))
    return (base + wobble + np.concatenate([2.0 * t, 0 * t], -1)).astype(np.float32)


# ------------------------------------------------------------------------------- windowing
def per_frame(x):
    """A model without temporal context: each frame's output depends on that frame only."""
    return torch.cat([x[..., :2] * 2 + 1, (x[..., :1] * x[..., 1:2])], -1)


@pytest.mark.parametrize('num_frames, stride', [(9, None), (30, None), (30, 1), (30, 9),
                                                (100, 4), (4, None)])
def test_windowing_is_exact_for_a_context_free_model(num_frames, stride):
    x = np.random.default_rng(0).normal(size=(num_frames, 17, 3)).astype(np.float32)
    out = sliding_window_predict(per_frame, x, seq_len=9, stride=stride, batch_size=5)
    expected = per_frame(torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_one_window_equals_a_single_pass_of_the_model(model):
    kpts = walk(9)
    result = inference_lifting(model, kpts, (1000, 1000))
    with torch.no_grad():
        single = model.predict_coords(torch.from_numpy(result.inputs)[None],
                                      model.dataset_meta['flip_indices'], 0)[0].numpy()
    np.testing.assert_allclose(result.keypoints_3d, single, rtol=1e-5, atol=1e-6)


def test_short_sequences_pad_or_run_as_they_are(model):
    kpts = walk(4)
    flip = model.dataset_meta['flip_indices']
    as_is = inference_lifting(model, kpts, (1000, 1000), pad_mode='none')
    with torch.no_grad():
        single = model.predict_coords(torch.from_numpy(as_is.inputs)[None], flip, 0)[0]
    np.testing.assert_allclose(as_is.keypoints_3d, single.numpy(), rtol=1e-5, atol=1e-6)
    padded = inference_lifting(model, kpts, (1000, 1000))        # edge-padded to 9 frames
    inputs = np.concatenate([padded.inputs[:1]] * 2 + [padded.inputs] + [padded.inputs[-1:]] * 3)
    with torch.no_grad():
        full = model.predict_coords(torch.from_numpy(inputs)[None], flip, 0)[0].numpy()
    np.testing.assert_allclose(padded.keypoints_3d, full[2:6], rtol=1e-5, atol=1e-6)
    one = inference_lifting(model, kpts[:1], (1000, 1000))
    assert one.keypoints_3d.shape == (1, 17, 3) and np.isfinite(one.keypoints_3d).all()


def window_mean(x):
    """A model whose output depends on the whole window: each frame gets the window's mean,
    so two windows disagree about a shared frame (as context-dependent models do)."""
    return x.mean(1, keepdim=True).expand_as(x).clone()


def test_blending_is_continuous_across_window_borders():
    t = np.arange(200, dtype=np.float32)
    x = np.broadcast_to(t[:, None, None], (200, 1, 1)).copy()     # a ramp: mean moves with t
    blended = sliding_window_predict(window_mean, x, seq_len=27)[:, 0, 0]
    hard = sliding_window_predict(window_mean, x, seq_len=27, stride=27)[:, 0, 0]
    # cutting into non-overlapping windows jumps by a window length at each border
    assert np.abs(np.diff(hard)).max() == pytest.approx(27, abs=1e-4)
    # blended overlapping windows never step by more than a few frames' worth
    steps = np.abs(np.diff(blended))
    assert steps.max() < 3.0, steps.max()
    # and follow the ramp inside the sequence (ends are held by the first/last window)
    np.testing.assert_allclose(blended[27:-27], t[27:-27], atol=2.0)


def test_frames_covered_by_one_window_keep_its_output():
    x = np.random.default_rng(1).normal(size=(20, 2, 3)).astype(np.float32)
    out = sliding_window_predict(window_mean, x, seq_len=8, stride=6)   # starts 0, 6, 12
    np.testing.assert_allclose(out[:6], np.broadcast_to(x[:8].mean(0), (6, 2, 3)), rtol=1e-5)
    assert window_weights(5).tolist() == [1, 2, 3, 2, 1]


def test_window_arguments_are_checked():
    x = np.zeros((5, 17, 3), np.float32)
    with pytest.raises(ValueError, match=r'stride must be in \[1, seq_len=4\], got 9'):
        sliding_window_predict(per_frame, x, seq_len=4, stride=9)
    with pytest.raises(ValueError, match="pad_mode must be 'edge' or 'none'"):
        sliding_window_predict(per_frame, x, seq_len=9, pad_mode='zeros')


# ------------------------------------------------------------------------------- inputs
def test_long_sequence_flip_equivariant_and_root_relative(model):
    kpts = walk(50)
    result = inference_lifting(model, kpts, (1000, 800), stride=3, progress=True)
    assert result.keypoints_3d.shape == (50, 17, 3)
    assert np.abs(result.keypoints_3d[:, 0]).max() == 0
    # flip averaging makes the whole (windowed) prediction mirror-equivariant
    flip = model.dataset_meta['flip_indices']
    mirrored = kpts[:, flip].copy()
    mirrored[..., 0] = 1000 - mirrored[..., 0]
    result_m = inference_lifting(model, mirrored, (1000, 800), stride=3)
    back = result_m.keypoints_3d[:, flip] * np.array([-1, 1, 1], np.float32)
    np.testing.assert_allclose(back, result.keypoints_3d, atol=2e-5)
    plain = inference_lifting(model, kpts, (1000, 800), flip_test=False, stride=3)
    assert not np.allclose(plain.keypoints_3d, result.keypoints_3d, atol=1e-4)
    assert model.test_cfg['flip_test'] is True                  # setting restored


def test_fill_missing_interpolates_in_time_and_from_other_joints():
    t = np.arange(6, dtype=np.float32)
    kpts = np.zeros((6, 3, 2), np.float32)
    kpts[:, 0] = np.stack([10 * t, 5 * t], -1)
    kpts[:, 1] = 100
    scores = np.ones((6, 3))
    scores[2:4, 0] = 0
    kpts[2:4, 0] = -999                             # what a detector writes for a miss
    scores[:, 2] = 0                                # joint 2 never detected
    scores[0, 0] = 0                                # before the first detection: held
    filled, mask = fill_missing(kpts, scores)
    np.testing.assert_allclose(filled[2:4, 0], [[20, 10], [30, 15]])
    np.testing.assert_allclose(filled[0, 0], [10, 5])
    np.testing.assert_allclose(filled[:, 2], (filled[:, 0] + filled[:, 1]) / 2)
    assert mask.sum() == 3 + 6
    with pytest.raises(ValueError, match='no joint has confidence > 0 in any of the 6 frames'):
        fill_missing(kpts, np.zeros((6, 3)))


def test_undetected_frames_and_nan_where_undetected_are_lifted(model):
    kpts = walk(30)
    scores = np.ones((30, 17))
    kpts[10:13] = np.nan                             # three frames with nobody detected
    scores[10:13] = 0
    scores[:, 16] = 0                                # a wrist never seen
    result = inference_lifting(model, kpts, (1000, 1000), scores=scores)
    assert np.isfinite(result.keypoints_3d).all()
    assert result.filled[10:13].all() and result.filled[:, 16].all()
    assert (result.inputs[10:13, :, 2] == 0).all()  # the model sees them as undetected


def test_bad_inputs_are_named(model):
    kpts = walk(10)
    bad = kpts.copy()
    bad[4, 7, 1] = np.nan
    with pytest.raises(ValueError, match=r'NaN or infinite coordinates .* frame 4, joint 7'):
        inference_lifting(model, bad, (1000, 1000))
    with pytest.raises(ValueError, match=r'the model lifts 17 joints .* have 26; pass '
                                         r'converter='):
        inference_lifting(model, np.random.default_rng(0).uniform(100, 900, (10, 26, 2)), (1000, 1000))
    with pytest.raises(ValueError, match=r'keypoints must have shape \(T, J, 2\)'):
        inference_lifting(model, np.zeros((10, 17)), (1000, 1000))
    with pytest.raises(ValueError, match=r'image_size must be positive'):
        inference_lifting(model, kpts, (0, 1000))
    with pytest.raises(ValueError, match=r'Coco17ToH36m expects 17 joints'):
        inference_lifting(model, np.random.default_rng(0).uniform(100, 900, (10, 26, 2)), (1000, 1000), converter='coco17')


def test_converter_applied_before_lifting(model):
    coco = np.random.default_rng(2).uniform(300, 700, (12, 17, 3)).astype(np.float32)
    coco[..., 2] = 0.9
    result = inference_lifting(model, coco, (1000, 1000), converter='coco17')
    np.testing.assert_allclose(result.keypoints_2d[:, 0],
                               (coco[:, 11, :2] + coco[:, 12, :2]) / 2, rtol=1e-5)
    assert result.keypoints_3d.shape == (12, 17, 3)


# ------------------------------------------------------------------------------- units
def test_units_match_the_metric_conversion_to_mm():
    from dualpose.evaluation.metrics.lifting_metric import PoseLiftingMetric
    rng = np.random.default_rng(3)
    pred = rng.normal(0, 0.2, (5, 17, 3)).astype(np.float32)
    pred -= pred[:, :1]
    factor = rng.uniform(3, 5, 5)
    metric = PoseLiftingMetric()
    metric.process(None, [dict(pred=pred, gt_mm=np.zeros_like(pred), video_id='v', action='a',
                               frame_indices=np.arange(5), factor_2_5d=factor,
                               image_size=(1000, 1002))])
    np.testing.assert_allclose(normalized_to_mm(pred, 1000, factor), metric.results[0]['pred_mm'],
                               rtol=1e-5, atol=1e-3)


def test_result_in_pixels_and_mm(model):
    result = inference_lifting(model, walk(9), (1200, 900))
    np.testing.assert_allclose(result.keypoints_3d_pixels(), result.keypoints_3d * 600,
                               rtol=1e-6)
    np.testing.assert_allclose(result.keypoints_3d_mm(2.0), result.keypoints_3d * 1200,
                               rtol=1e-5, atol=1e-4)
    assert 'normalised screen units' in result.units


# ------------------------------------------------------------------------------- checkpoints
def test_checkpoints_load_with_module_prefix_and_mismatches_are_named(model, tmp_path):
    state = {f'module.{k}': v for k, v in model.state_dict().items()}
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), tmp_path / 'ddp.pth')
    torch.manual_seed(1)
    other = init_model(CONFIG, str(tmp_path / 'ddp.pth'), cfg_options=TINY)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(other.state_dict()[k], v)
    with pytest.raises(ValueError, match=r"(?s)ddp.pth' does not match the model of .*"
                                         r'dualpose-tiny_synthetic-27f.py.*shape mismatches.*'
                                         r'backbone.embed.weight: \(16, 3\) vs \(64, 3\)'):
        init_model(CONFIG, str(tmp_path / 'ddp.pth'))               # C 32 config, C 16 file
    (tmp_path / 'cut.pth').write_bytes((tmp_path / 'ddp.pth').read_bytes()[:100])
    with pytest.raises(RuntimeError, match=r'cut.pth.* probably truncated'):
        load_weights(model, str(tmp_path / 'cut.pth'))
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_weights(model, str(tmp_path / 'absent.pth'))


def test_init_model_reads_window_and_skeleton(model):
    assert model.seq_len == 9 and not model.training
    assert model.dataset_meta['num_joints'] == 17 and model.dataset_meta['root_index'] == 0
    with pytest.raises(FileNotFoundError, match='nope.py'):
        init_model('nope.py')


def test_published_checkpoint_keeps_only_weights_and_loads(model, tmp_path):
    from tests.conftest import load_tool
    publish = load_tool('tools/misc/publish_model.py')
    train_ckpt = dict(state_dict=model.state_dict(), optimizer={'state': {}, 'param_groups': []},
                      message_hub={'log': 1}, meta=dict(epoch=3, iter=30, seed=0, hook_msgs={}))
    torch.save(train_ckpt, tmp_path / 'epoch_3.pth')
    assert publish.main([str(tmp_path / 'epoch_3.pth'), str(tmp_path / 'pub.pth'),
                         '--note', 'tiny']) == 0
    pub = torch.load(tmp_path / 'pub.pth', weights_only=False)
    assert sorted(pub) == ['meta', 'state_dict']
    assert pub['meta'] == dict(epoch=3, iter=30, seed=0, source='epoch_3.pth', note='tiny')
    loaded = init_model(CONFIG, str(tmp_path / 'pub.pth'), cfg_options=TINY)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[k], v)
    (tmp_path / 'plain.pth').write_bytes(b'')
    assert publish.main([str(tmp_path / 'plain.pth'), str(tmp_path / 'x.pth')]) == 1
    assert not (tmp_path / 'x.pth').exists()
