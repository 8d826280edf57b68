import math

import pytest
import torch

from dualpose.evaluation.functional import (MPI_INF_3DHP_AUC_THRESHOLDS, accel_error, auc_3d,
                                            mpjpe, mpjve, n_mpjpe, p_mpjpe, pck_3d)


def _rotation(axis, angle):
    axis = torch.tensor(axis, dtype=torch.float64)
    axis = axis / axis.norm()
    x, y, z = axis.tolist()
    k = torch.tensor([[0, -z, y], [z, 0, -x], [-y, x, 0]], dtype=torch.float64)
    return torch.eye(3, dtype=torch.float64) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def _pose(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * 100


def test_mpjpe_constant_offset():
    target = _pose(2, 4, 17, 3)
    pred = target + torch.tensor([3.0, 4.0, 0.0], dtype=torch.float64)
    err = mpjpe(pred, target)
    assert err.shape == (2, 4)
    torch.testing.assert_close(err, torch.full((2, 4), 5.0, dtype=torch.float64))


def test_mpjpe_mean_over_joints():
    target = torch.zeros(2, 3)
    pred = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]])  # distances 5 and 1
    assert mpjpe(pred, target).item() == pytest.approx(3.0)


def test_mpjpe_shape_mismatch():
    with pytest.raises(ValueError, match='same shape'):
        mpjpe(torch.zeros(4, 17, 3), torch.zeros(4, 16, 3))


def test_n_mpjpe_scaled_copy_is_zero():
    target = _pose(3, 17, 3)
    scales = torch.tensor([0.5, 2.0, 7.0], dtype=torch.float64)[:, None, None]
    err = n_mpjpe(target * scales, target)
    assert err.shape == (3, )
    torch.testing.assert_close(err, torch.zeros(3, dtype=torch.float64), atol=1e-9, rtol=0)
    # a translated copy is not a scaled copy
    assert (n_mpjpe(target + 10.0, target) > 1e-3).all()


def test_n_mpjpe_hand_computed():
    # one joint at distance 1 on x, target at 2: best scale 2 -> 0; and a 2-joint case
    target = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    pred = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    # s = 2 / 1 = 2 -> pred (2,0,0),(0,0,0): errors 0 and 1 -> mean 0.5
    torch.testing.assert_close(n_mpjpe(pred, target), torch.tensor([0.5]))


def test_p_mpjpe_similarity_copy_is_zero():
    target = _pose(5, 17, 3, seed=1)
    rot = _rotation([1.0, 2.0, 0.5], 0.9)
    pred = 2.5 * target @ rot.T + torch.tensor([10.0, -40.0, 300.0], dtype=torch.float64)
    err = p_mpjpe(pred, target)
    assert err.shape == (5, )
    torch.testing.assert_close(err, torch.zeros(5, dtype=torch.float64), atol=1e-8, rtol=0)
    # the raw error is large
    assert (mpjpe(pred, target) > 10).all()


def test_p_mpjpe_non_rigid_is_positive():
    target = _pose(1, 17, 3, seed=2)
    pred = target.clone()
    pred[..., 0] *= 1.5  # anisotropic stretch cannot be undone by a similarity
    assert p_mpjpe(pred, target).item() > 1.0
    # and it never exceeds the error of the identity alignment
    assert p_mpjpe(pred, target).item() <= mpjpe(pred, target).item() + 1e-9


def test_p_mpjpe_reflection_is_not_aligned():
    target = _pose(1, 17, 3, seed=3)
    mirrored = target * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    assert p_mpjpe(mirrored, target).item() > 1.0


def test_p_mpjpe_float32_and_leading_dims():
    target = _pose(2, 3, 17, 3, seed=4).float()
    rot = _rotation([0.0, 0.0, 1.0], 2.0).float()
    err = p_mpjpe(0.3 * target @ rot.T + 5.0, target)
    assert err.shape == (2, 3)
    assert err.dtype == torch.float32
    assert err.abs().max().item() < 1e-2


def test_mpjve_known_sequence():
    # target static, prediction moves 3-4-0 every frame for all joints from step 1 to 2 only
    target = torch.zeros(4, 2, 3)
    pred = torch.zeros(4, 2, 3)
    pred[2:] += torch.tensor([3.0, 4.0, 0.0])  # velocity 5 at step 1->2, then 0
    pred[3, 1] += torch.tensor([0.0, 0.0, 2.0])  # joint 1 moves 2 at step 2->3
    err = mpjve(pred, target)
    assert err.shape == (3, )
    torch.testing.assert_close(err, torch.tensor([0.0, 5.0, 1.0]))


def test_mpjve_time_dim_and_constant_offset():
    target = _pose(2, 6, 17, 3, seed=5)
    # a constant offset has no velocity error
    err = mpjve(target + 7.0, target)
    assert err.shape == (2, 5)
    torch.testing.assert_close(err, torch.zeros(2, 5, dtype=torch.float64), atol=1e-9, rtol=0)
    # time first: (T, B, J, 3) with dim=0
    err0 = mpjve(target.transpose(0, 1) * 2, target.transpose(0, 1), dim=0)
    err1 = mpjve(target * 2, target, dim=1)
    torch.testing.assert_close(err0, err1.transpose(0, 1))
    with pytest.raises(ValueError, match='before the joint'):
        mpjve(target, target, dim=-2)


def test_mpjve_single_frame_is_empty():
    x = torch.zeros(1, 17, 3)
    assert mpjve(x, x).numel() == 0


def test_accel_error_known_sequence():
    # joint 0 of the prediction steps by (3, 4, 0) at frame 2 only: x = 0, 0, 5, 5 along that
    # direction -> second differences at the centres 1, 2: +5, -5
    target = torch.zeros(4, 2, 3)
    pred = torch.zeros(4, 2, 3)
    pred[2:, 0] += torch.tensor([3.0, 4.0, 0.0])
    err = accel_error(pred, target)
    assert err.shape == (2, )
    torch.testing.assert_close(err, torch.tensor([2.5, 2.5]))  # mean over the 2 joints
    # constant velocity has no acceleration error
    t = torch.arange(6, dtype=torch.float64)[:, None, None]
    moving = _pose(6, 17, 3, seed=2)
    torch.testing.assert_close(accel_error(moving + 7.0 * t, moving), torch.zeros(4,
                               dtype=torch.float64), atol=1e-9, rtol=0)
    assert accel_error(pred[:2], target[:2]).numel() == 0
    with pytest.raises(ValueError, match='before the joint'):
        accel_error(pred, target, dim=-1)


def _displaced(distances):
    """One frame whose joint j is ``distances[j]`` away from the target, along x."""
    target = torch.zeros(1, len(distances), 3, dtype=torch.float64)
    pred = target.clone()
    pred[0, :, 0] = torch.tensor(distances, dtype=torch.float64)
    return pred, target


def test_pck_and_auc_on_and_between_thresholds():
    # on the thresholds (5, 100, 150) and just below or above them
    dist = [0.0, 4.9, 5.0, 5.1, 50.0, 99.99, 100.0, 149.9, 150.0, 150.1, 200.0]
    pred, target = _displaced(dist)
    # strictly below 150: the first 8 joints
    assert pck_3d(pred, target, 150.0).item() == pytest.approx(800 / 11)
    # thresholds 0, 5, ..., 150 that each distance is strictly below:
    # 0 -> 30, 4.9 -> 30, 5 -> 29, 5.1 -> 29, 50 -> 20, 99.99 -> 11, 100 -> 10, 149.9 -> 1,
    # 150, 150.1, 200 -> 0: 160 of 11 * 31
    assert len(MPI_INF_3DHP_AUC_THRESHOLDS) == 31
    assert auc_3d(pred, target).item() == pytest.approx(100 * 160 / (11 * 31))
    # perfect: PCK 100, AUC 30/31 (the threshold 0 never counts); 200 mm everywhere: 0, 0
    zero, _ = _displaced([0.0] * 17)
    assert pck_3d(zero, target[:, :1].expand(1, 17, 3)).item() == 100.0
    assert auc_3d(zero, torch.zeros_like(zero)).item() == pytest.approx(100 * 30 / 31)
    far, target17 = _displaced([200.0] * 17)
    assert pck_3d(far, target17).item() == 0.0 and auc_3d(far, target17).item() == 0.0
    # leading dimensions are kept; custom thresholds
    both = torch.cat([zero, far])
    assert pck_3d(both, torch.zeros_like(both)).tolist() == [100.0, 0.0]
    assert auc_3d(far, target17, thresholds=[250.0]).item() == 100.0
    with pytest.raises(ValueError, match='same shape'):
        pck_3d(far, target17[:, :3])
