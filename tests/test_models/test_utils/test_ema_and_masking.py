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


def _clip(b=4, t=6, j=17, seed=0):
    """2D in normalised screen units around (0.3, -0.2), about 0.1 wide; confidences in (0, 1]."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.tensor([0.3, -0.2]) + 0.1 * torch.randn(b, t, j, 2, generator=g)
    conf = torch.rand(b, t, j, 1, generator=g).clamp(min=0.05)
    return torch.cat([xy, conf], -1)


def test_noise_masking_replaces_coordinates_only_and_sets_the_confidence():
    from dualpose.models.utils import TokenMasking
    torch.manual_seed(0)
    x = _clip()
    out, mask, hook = TokenMasking(num_masks=2, ratio=0.5)(x)  # the default: 'noise', body
    assert hook == {} and out.shape == (8, 6, 17, 3)
    ref = x.repeat(2, 1, 1, 1)
    keep = ~mask
    torch.testing.assert_close(out[keep], ref[keep])  # unmasked tokens untouched
    assert torch.all(out[mask][:, 2] == 0.0)  # masked: confidence 0, as an undetected joint
    assert torch.all(out[mask][:, :2] != ref[mask][:, :2])
    # noise on the body's extent: centred on the clip's mean, spread about its RMS radius
    noise = out[mask][:, :2]
    assert (noise.mean(0) - torch.tensor([0.3, -0.2])).abs().max() < 0.03
    radius = ((ref[..., :2] - ref[..., :2].mean((1, 2), keepdim=True)) ** 2).sum(-1).mean().sqrt()
    spread = ((noise - noise.mean(0)) ** 2).sum(-1).mean().sqrt()
    assert 0.8 < (spread / radius).item() < 1.2
    # keep the detector's confidence
    out, mask, _ = TokenMasking(num_masks=1, ratio=0.5, masked_confidence=None)(x)
    torch.testing.assert_close(out[..., 2], x[..., 2])
    # screen scale: N(0, std) in normalised screen units, whatever the body
    out, mask, _ = TokenMasking(num_masks=4, ratio=0.5, noise_scale='screen',
                                noise_std=0.5)(x)
    assert abs(out[mask][:, :2].std().item() - 0.5) < 0.05
    assert abs(out[mask][:, :2].mean().item()) < 0.05


def test_literal_noise_masking_overwrites_all_three_channels():
    from dualpose.models.utils import TokenMasking
    torch.manual_seed(0)
    x = _clip()
    out, mask, _ = TokenMasking(num_masks=4, ratio=0.5, mode='noise-literal')(x)
    conf = out[mask][:, 2]
    assert conf.min() < 0 and conf.max() > 1  # the paper's literal reading: noise everywhere
    assert abs(out[mask].std().item() - 1.0) < 0.05


def test_body_frame_ignores_undetected_joints():
    from dualpose.models.utils.masking import body_frame
    xy = torch.zeros(1, 2, 3, 2)
    xy[0, :, 0] = torch.tensor([1.0, 0.0])
    xy[0, :, 1] = torch.tensor([-1.0, 0.0])
    xy[0, :, 2] = torch.tensor([50.0, 50.0])  # an undetected joint's filled-in coordinates
    conf = torch.tensor([1.0, 1.0, 0.0]).expand(1, 2, 3)
    centre, scale = body_frame(xy, conf)
    torch.testing.assert_close(centre.flatten(), torch.zeros(2))
    torch.testing.assert_close(scale.flatten(), torch.tensor([0.5 ** 0.5]))  # per coordinate


@pytest.mark.parametrize('options,match', [
    (dict(mode='blank'), 'masking mode must be one of'),
    (dict(noise_scale='image'), 'noise_scale must be one of'),
    (dict(masked_confidence=2.0), r'masked_confidence must be in \[0, 1\]'),
    (dict(noise_std=0.0), 'noise_std must be > 0'),
    (dict(mode='token', embed_dims=4, token_position='middle'), 'token_position'),
])
def test_masking_options_are_checked(options, match):
    from dualpose.models.utils import TokenMasking
    with pytest.raises(ValueError, match=match):
        TokenMasking(**options)


def test_shared_parameters_are_copied_not_averaged():
    student = toy()
    teacher = MomentumTeacher(student, tau_start=0.5, tau_end=0.5, tau_iters=1, shared=('0',))
    teacher.update_parameters(student)
    with torch.no_grad():
        student[0].weight.add_(1.0)
        student[1].weight.add_(1.0)
    teacher.update_parameters(student)
    torch.testing.assert_close(teacher.module[0].weight, student[0].weight)  # shared: copied
    torch.testing.assert_close(teacher.module[1].weight, student[1].weight - 0.5)  # averaged
    frozen = MomentumTeacher(student, frozen=True, shared=('0.weight',))
    with torch.no_grad():
        student[0].weight.add_(1.0)
        student[1].weight.add_(1.0)
    frozen.update_parameters(student)
    torch.testing.assert_close(frozen.module[0].weight, student[0].weight)
    assert not torch.equal(frozen.module[1].weight, student[1].weight)
    with pytest.raises(ValueError, match=r"shared=\['embed'\]: no parameter"):
        MomentumTeacher(student, shared=('embed',))
