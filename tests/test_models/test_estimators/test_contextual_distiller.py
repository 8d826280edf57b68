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
               num_masks=3, mask_ratio=0.5, top_k=2,
               teacher=dict(tau_start=0.9, tau_end=0.99, tau_iters=10))
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('mask_mode', ['noise', 'token'])
def test_loss_outputs_and_teacher_gets_no_gradient(mask_mode):
    model = build(mask_mode=mask_mode).train()
    out = model(torch.randn(2, 9, 17, 3), mode='loss')
    assert set(out) == {'loss_crl', 'tau', 'mask_ratio', 'target_std', 'pred_std'}
    assert out['tau'].item() == pytest.approx(0.9)
    assert 0.3 < out['mask_ratio'].item() < 0.7
    assert out['target_std'] > 0 and out['pred_std'] > 0
    out['loss_crl'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.backbone.embed.weight.grad is not None
    if mask_mode == 'token':
        assert model.mask_token.grad is not None and model.mask_token.grad.abs().sum() > 0


def test_loss_counts_masked_positions_only():
    model = build().train()
    record = {}
    original = model.mask_inputs

    def spy(inputs):
        x, mask = original(inputs)
        record['mask'] = mask
        return x, mask

    model.mask_inputs = spy
    def keep_pred(module, inputs, output):
        output.retain_grad()
        record['pred'] = output

    handle = model.pred_head.register_forward_hook(keep_pred)
    model(torch.randn(2, 9, 17, 3), mode='loss')['loss_crl'].backward()
    handle.remove()
    grad = record['pred'].grad.abs().sum(-1)
    mask = record['mask']
    assert torch.all(grad[~mask] == 0)
    assert torch.all(grad[mask] > 0)


def test_targets_are_mean_of_normalised_top_k_layers():
    model = build(top_k=2, target_norm='layer').eval()
    x = torch.randn(1, 5, 17, 3)
    _, layers = model.teacher.module(x, return_layers=True)
    ln = [torch.nn.functional.layer_norm(layer, (16, )) for layer in layers[-2:]]
    torch.testing.assert_close(model.compute_targets(x), (ln[0] + ln[1]) / 2)
    inst = build(top_k=1, target_norm='instance').compute_targets(x)
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
