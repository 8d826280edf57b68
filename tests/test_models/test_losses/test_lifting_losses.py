import pytest
import torch

from dualpose.models.losses import MPJPELoss, NMPJPELoss, VelocityLoss
from dualpose.registry import MODELS


def _pair(seed=0, shape=(2, 5, 17, 3)):
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(*shape, generator=g)
    pred = torch.randn(*shape, generator=g).requires_grad_(True)
    return pred, target


@pytest.mark.parametrize('cls,name', [(MPJPELoss, 'loss_mpjpe'), (NMPJPELoss, 'loss_n_mpjpe'),
                                      (VelocityLoss, 'loss_velocity')])
def test_registered_name_weight_and_grad(cls, name):
    loss = MODELS.build(dict(type=cls.__name__, loss_weight=1.0))
    assert isinstance(loss, cls)
    assert loss.loss_name == name
    pred, target = _pair()
    value = loss(pred, target)
    assert value.dim() == 0 and value.item() > 0
    value.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0

    weighted = cls(loss_weight=0.25)(pred.detach(), target)
    torch.testing.assert_close(weighted, value.detach() * 0.25)


def test_mpjpe_loss_value():
    target = torch.zeros(2, 3, 4, 3)
    pred = target + torch.tensor([3.0, 4.0, 0.0])
    assert MPJPELoss(loss_weight=2.0)(pred, target).item() == pytest.approx(10.0)


def test_n_mpjpe_loss_scale_invariant():
    _, target = _pair(1)
    assert NMPJPELoss()(3.0 * target, target).item() == pytest.approx(0.0, abs=1e-5)


def test_velocity_loss_value_and_single_frame():
    target = torch.zeros(1, 3, 2, 3)
    pred = torch.zeros(1, 3, 2, 3)
    pred[:, 1:] += torch.tensor([3.0, 4.0, 0.0])  # steps: 5, 0 -> mean 2.5
    assert VelocityLoss()(pred, target).item() == pytest.approx(2.5)

    pred1 = torch.randn(2, 1, 17, 3, requires_grad=True)
    value = VelocityLoss()(pred1, torch.randn(2, 1, 17, 3))
    assert value.item() == 0.0 and not torch.isnan(value)
    value.backward()
    assert torch.isfinite(pred1.grad).all()


def test_zero_error_gradient_is_finite():
    target = torch.randn(2, 4, 17, 3)
    for loss in (MPJPELoss(), NMPJPELoss(), VelocityLoss()):
        pred = target.clone().requires_grad_(True)
        loss(pred, target).backward()
        assert torch.isfinite(pred.grad).all(), type(loss).__name__
