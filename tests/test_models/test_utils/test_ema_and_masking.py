import pytest
import torch

from dualpose.models.utils import MomentumTeacher, draw_token_mask


def toy():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))


def test_tau_schedule_values():
    t = MomentumTeacher(toy(), tau_start=0.99, tau_end=0.999, tau_iters=100)
    assert t.tau_at(0) == pytest.approx(0.99)
    assert t.tau_at(50) == pytest.approx(0.9945)
    assert t.tau_at(100) == pytest.approx(0.999)
    assert t.tau_at(1000) == pytest.approx(0.999)
    with pytest.raises(ValueError, match='tau_start'):
        MomentumTeacher(toy(), tau_start=0.9, tau_end=0.5)


@pytest.mark.parametrize('use_foreach', [True, False])
def test_ema_blend_after_n_steps(use_foreach):
    student = toy()
    teacher = MomentumTeacher(student, tau_start=0.5, tau_end=0.9, tau_iters=4,
                              use_foreach=use_foreach)
    w0 = student[0].weight.detach().clone()
    expected = w0.clone()
    teacher.update_parameters(student)  # step 0: copy
    for step in range(1, 7):
        with torch.no_grad():
            student[0].weight.add_(1.0)
        teacher.update_parameters(student)
        tau = 0.5 + 0.4 * min(step / 4, 1.0)
        expected = tau * expected + (1 - tau) * student[0].weight.detach()
    torch.testing.assert_close(teacher.module[0].weight, expected)
    assert int(teacher.steps) == 7
    assert not any(p.requires_grad for p in teacher.parameters())


def test_frozen_teacher_never_moves():
    student = toy()
    teacher = MomentumTeacher(student, frozen=True)
    before = teacher.module[0].weight.clone()
    with torch.no_grad():
        student[0].weight.add_(1.0)
    for _ in range(3):
        teacher.update_parameters(student)
    torch.testing.assert_close(teacher.module[0].weight, before)


@pytest.mark.parametrize('span,span_dim', [(1, 'time'), (5, 'time'), (5, 'joint')])
def test_mask_ratio_statistics(span, span_dim):
    torch.manual_seed(0)
    mask = draw_token_mask((64, 81, 17), 0.7, span=span, span_dim=span_dim)
    assert mask.dtype == torch.bool and mask.shape == (64, 81, 17)
    assert abs(mask.float().mean().item() - 0.7) < 0.02
    # no position is favoured: the first and the last token are masked as often
    axis = 1 if span_dim == 'time' else 2
    per_pos = mask.float().mean(dim=[d for d in (0, 1, 2) if d != axis])
    assert abs(per_pos[0].item() - 0.7) < 0.06 and abs(per_pos[-1].item() - 0.7) < 0.06
    if span > 1:
        runs = (mask.int().diff(dim=axis) == 1).sum().item()  # number of run starts
        assert runs < mask.sum().item() / 3  # masks come in runs, not isolated tokens


def test_mask_copies_differ():
    torch.manual_seed(0)
    mask = draw_token_mask((3 * 4, 27, 17), 0.7).view(3, 4, 27, 17)
    assert not torch.equal(mask[0], mask[1]) and not torch.equal(mask[1], mask[2])
