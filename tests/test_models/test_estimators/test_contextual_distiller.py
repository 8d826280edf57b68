import pytest
import torch

from dualpose.registry import MODELS
from tests.conftest import H36M_LINKS


def build(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='ContextualDistiller',
               backbone=dict(type='DualStreamFormer', arch=dict(embed_dims=16, depth=3,
                                                                 num_heads=4),
                             skeleton_links=H36M_LINKS, num_joints=17, layer_scale_init=1.0),
               masking=dict(num_masks=3, ratio=0.5), target_generator=dict(top_k=2),
               teacher=dict(tau_start=0.9, tau_end=0.99, tau_iters=10))
    for part, options in kwargs.items():
        cfg[part] = dict(cfg.get(part, {}), **options)
    return MODELS.build(cfg)


@pytest.mark.parametrize('mask_mode', ['noise', 'noise-literal', 'token'])
def test_loss_outputs_and_teacher_gets_no_gradient(mask_mode):
    model = build(masking=dict(mode=mask_mode)).train()
    out = model(torch.randn(2, 9, 17, 3), mode='loss')
    assert set(out) == {'loss_crl', 'tau', 'mask_ratio', 'target_std', 'pred_std'}
    assert out['tau'].item() == pytest.approx(0.9)
    assert 0.3 < out['mask_ratio'].item() < 0.7
    assert out['target_std'] > 0 and out['pred_std'] > 0
    out['loss_crl'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.backbone.embed.weight.grad is not None
    if mask_mode == 'token':
        token = model.masking.mask_token
        assert token.grad is not None and token.grad.abs().sum() > 0


def test_loss_counts_masked_positions_only():
    model = build().train()
    record = {}
    def spy(module, inputs, output):
        record['mask'] = output[1]

    spy_handle = model.masking.register_forward_hook(spy)
    def keep_pred(module, inputs, output):
        output.retain_grad()
        record['pred'] = output

    handle = model.head.fc.register_forward_hook(keep_pred)
    model(torch.randn(2, 9, 17, 3), mode='loss')['loss_crl'].backward()
    handle.remove()
    spy_handle.remove()
    grad = record['pred'].grad.abs().sum(-1)
    mask = record['mask']
    assert torch.all(grad[~mask] == 0)
    assert torch.all(grad[mask] > 0)


def test_targets_are_mean_of_normalised_top_k_layers():
    model = build(target_generator=dict(top_k=2, norm='layer')).eval()
    x = torch.randn(1, 5, 17, 3)
    _, layers = model.teacher.module(x, return_layers=True)
    ln = [torch.nn.functional.layer_norm(layer, (16, )) for layer in layers[-2:]]
    torch.testing.assert_close(model.target_generator(model.teacher.module, x), (ln[0] + ln[1]) / 2)
    inst_model = build(target_generator=dict(top_k=1, norm='instance'))
    inst = inst_model.target_generator(inst_model.teacher.module, x)
    # instance norm: zero mean and unit variance over time per (joint, channel)
    torch.testing.assert_close(inst.mean(1), torch.zeros(1, 17, 16), atol=1e-5, rtol=0)


def test_teacher_follows_student_by_ema_and_predict_is_refused():
    model = build().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(3):
        loss = model(torch.randn(2, 9, 17, 3), mode='loss')['loss_crl']
        opt.zero_grad()
        loss.backward()
        opt.step()
    s, t = model.backbone.embed.weight, model.teacher.module.embed.weight
    assert not torch.equal(s, t)  # the teacher lags behind
    assert int(model.teacher.steps) == 3
    with pytest.raises(RuntimeError, match='fine-tune'):
        model(torch.randn(1, 9, 17, 3), mode='predict')


def test_parts_are_registered_and_checked():
    from dualpose.models.losses import RepresentationLoss
    pred, target = torch.randn(5, 16), torch.randn(5, 16)
    l2 = RepresentationLoss()(pred, target)
    torch.testing.assert_close(l2, (pred - target).pow(2).sum(-1).mean() / 4.0)
    sl1 = RepresentationLoss(mode='smooth_l1', beta=0.25, loss_weight=2.0)(pred, target)
    d = (pred - target).abs()
    ref = torch.where(d < 0.25, 0.5 * d ** 2 / 0.25, d - 0.125).sum(-1).mean() / 4.0
    torch.testing.assert_close(sl1, 2.0 * ref)
    for part, options, match in (('masking', dict(mode='blank'), "masking mode must be one of"),
                                 ('masking', dict(ratio=1.0), r'ratio must be in \[0, 1\)'),
                                 ('target_generator', dict(norm='batch'), 'target norm'),
                                 ('head', dict(loss=dict(type='RepresentationLoss',
                                                         mode='l1')), "'l2' or 'smooth_l1'")):
        with pytest.raises(ValueError, match=match):
            build(**{part: options})
    # K is clamped to the backbone's depth (3)
    assert build(target_generator=dict(top_k=8)).target_generator.top_k == 3


def test_shared_embedding_teacher_uses_the_students_embedding():
    model = build(teacher=dict(share_embedding=True)).train()
    assert model.teacher.shared == ('embed', 'spatial_pos')  # no temporal embedding here
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(3):
        loss = model(torch.randn(2, 9, 17, 3), mode='loss')['loss_crl']
        opt.zero_grad()
        loss.backward()
        opt.step()
    model(torch.randn(2, 9, 17, 3), mode='loss')  # the update before the targets copies
    torch.testing.assert_close(model.teacher.module.embed.weight, model.backbone.embed.weight)
    torch.testing.assert_close(model.teacher.module.spatial_pos, model.backbone.spatial_pos)
    blk_t = model.teacher.module.blocks[0].streams[0].spatial.mixer
    blk_s = model.backbone.blocks[0].streams[0].spatial.mixer
    assert not all(torch.equal(a, b) for a, b in zip(blk_t.parameters(), blk_s.parameters()))


@pytest.mark.parametrize('position', ['after_pos', 'before_pos'])
def test_mask_token_position(position):
    model = build(masking=dict(mode='token', token_position=position)).eval()
    bb, token = model.backbone, model.masking.mask_token
    x = torch.randn(1, 4, 17, 3)
    mask = torch.zeros(1, 4, 17, dtype=torch.bool)
    mask[0, 1, 3] = True
    seen = {}
    handle = bb.pos_drop.register_forward_hook(lambda m, i, o: seen.setdefault('emb', o))
    with torch.no_grad():
        bb(x, token_mask=mask, mask_token=token, mask_position=position)
    handle.remove()
    expected = token if position == 'after_pos' else token + bb.spatial_pos[0, 0, 3]
    torch.testing.assert_close(seen['emb'][0, 1, 3], expected)
    with pytest.raises(ValueError, match='mask_position'):
        bb(x, token_mask=mask, mask_token=token, mask_position='middle')
