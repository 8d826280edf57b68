"""The coordinate codec: screen normalisation and back, root-relative, 2.5D factor -> mm,
flip, on numpy and torch; encode/decode as the transforms and the metric use them."""
import numpy as np
import pytest
import torch

from dualpose.codecs import (ScreenLiftingCodec, flip_pose, normalized_to_mm, pixels_to_screen,
                             root_relative, screen_to_pixels)
from dualpose.registry import KEYPOINT_CODECS


def test_screen_units_formula_and_inverse_for_root_relative_poses():
    pix = np.array([[[0.0, 0.0, 0.0], [500.0, 501.0, 250.0], [1000.0, 1002.0, -50.0]]])
    out = pixels_to_screen(pix, 1000, 1002)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], [-1.0, -1.002, 0.0], rtol=1e-6)
    np.testing.assert_allclose(out[0, 1], [0.0, 0.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(out[0, 2], [1.0, 1.002, -0.1], rtol=1e-6)
    rel = root_relative(out, 1)
    np.testing.assert_allclose(screen_to_pixels(rel, 1000), root_relative(pix, 1), atol=1e-3)


def test_root_relative_keeps_type_and_dtype():
    x = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    r = root_relative(x, 2)
    assert r.dtype == np.float32 and (r[:, 2] == 0).all()
    np.testing.assert_array_equal(r[:, 0], x[:, 0] - x[:, 2])
    t = torch.from_numpy(x).double()[None]           # (B, T, J, C)
    rt = root_relative(t, 2)
    assert rt.dtype == torch.float64 and rt.shape == (1, 2, 4, 3)
    np.testing.assert_array_equal(rt[0].numpy(), r)


def test_normalized_to_mm_scales_by_half_width_and_factor_per_frame():
    pred = np.zeros((2, 3, 3))
    pred[:, 1] = [0.1, -0.2, 0.3]
    mm = normalized_to_mm(pred + 5.0, 1000, np.array([2.0, 4.0]))   # offsets vanish
    assert mm.dtype == np.float64
    np.testing.assert_allclose(mm[0, 1], [100.0, -200.0, 300.0])
    np.testing.assert_allclose(mm[1, 1], [200.0, -400.0, 600.0])
    np.testing.assert_allclose(normalized_to_mm(pred, 1000, 2.0, root=1)[0, 0],
                               [-100.0, 200.0, -300.0])


def test_flip_negates_x_and_swaps_joints_on_numpy_and_torch():
    x = np.random.default_rng(0).normal(size=(2, 3, 3)).astype(np.float32)
    idx = [0, 2, 1]
    f = flip_pose(x, idx)
    np.testing.assert_array_equal(f[:, 1, 0], -x[:, 2, 0])
    np.testing.assert_array_equal(f[:, 1, 1:], x[:, 2, 1:])
    np.testing.assert_array_equal(flip_pose(f, idx), x)
    torch.testing.assert_close(flip_pose(torch.from_numpy(x), idx), torch.from_numpy(f))
    assert ScreenLiftingCodec.flip(x, idx).tolist() == f.tolist()


def test_encode_then_decode_round_trip_and_registry():
    codec = KEYPOINT_CODECS.build(dict(type='ScreenLiftingCodec', root_index=0))
    assert isinstance(codec, ScreenLiftingCodec)
    rng = np.random.default_rng(1)
    kp = rng.uniform(0, 1000, (4, 5, 2))
    target = np.concatenate([kp, rng.uniform(-100, 100, (4, 5, 1))], -1)
    mm = rng.normal(size=(4, 5, 3)) * 300
    out = codec.encode(kp, (1000, 800), target_3d=target, target_mm=mm)
    assert out['lifting_inputs'].shape == (4, 5, 3) and (out['lifting_inputs'][..., 2] == 1).all()
    assert (out['lifting_target'][:, 0] == 0).all() and (out['target_mm'][:, 0] == 0).all()
    assert out['target_mm'].dtype == np.float32
    factor = np.full(4, 0.5)
    dec = codec.decode(out['lifting_target'], (1000, 800), factor)
    np.testing.assert_allclose(dec['pred_mm'], root_relative(target, 0) * 0.5, atol=1e-3)
    assert set(codec.decode(out['lifting_target'])) == {'pred'}
    absolute = ScreenLiftingCodec(root_relative=False).encode(kp, (1000, 800), target_3d=target)
    np.testing.assert_array_equal(absolute['lifting_target'], pixels_to_screen(target, 1000, 800))
    with pytest.raises(ValueError, match='millimetres need image_size'):
        codec.decode(out['lifting_target'], factor_2_5d=factor)
