"""ActionRecognizer and ActionClassificationHead: shapes of every mode, the pooling, the loss
and label smoothing by hand, flip test, a frozen backbone, and the hand-off from a CRL
pre-training (the pre-trained weights are the ones loaded)."""
import pytest
import torch
import torch.nn.functional as F

from dualpose.registry import MODELS
from dualpose.structures import PoseDataSample
from tests.conftest import H36M_FLIP_PAIRS, H36M_LINKS

BACKBONE = dict(type='DualStreamFormer', arch=dict(embed_dims=16, depth=2, num_heads=2),
                skeleton_links=H36M_LINKS, num_joints=17)


def build(head=None, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='ActionRecognizer', backbone=dict(BACKBONE, **kwargs.pop(
        'backbone', {})), head=dict(dict(type='ActionClassificationHead', num_classes=4),
                                    **(head or {})), **kwargs))


def samples(labels):
    flip = list(range(17))
    for a, b in H36M_FLIP_PAIRS:
        flip[a], flip[b] = b, a
    out = []
    for label in labels:
        ds = PoseDataSample(metainfo=dict(flip_indices=flip, root_index=0))
        ds.gt_label = torch.tensor(label)
        out.append(ds)
    return out


def test_modes_shapes_and_loss():
    model = build().train()
    x = torch.randn(3, 9, 17, 3)
    assert model(x, mode='tensor').shape == (3, 4)
    assert model.head.in_channels == 16   # from the backbone
    losses = model(x, samples([0, 1, 3]), mode='loss')
    assert set(losses) == {'loss_cls', 'acc_top1'}
    logits = model(x, mode='tensor')
    # dropout 0, label smoothing 0: the plain cross-entropy
    assert losses['loss_cls'].item() == pytest.approx(
        F.cross_entropy(logits, torch.tensor([0, 1, 3])).item(), rel=1e-5)
    losses['loss_cls'].backward()
    assert model.backbone.embed.weight.grad is not None
    model.eval()
    out = model(x, samples([0, 1, 3]), mode='predict')
    assert out[0].pred_score.shape == (4, ) and out[0].pred_label.dim() == 0
    torch.testing.assert_close(torch.stack([o.pred_score for o in out]),
                               model(x, mode='tensor').softmax(-1))
    assert out[2].pred_label.item() == out[2].pred_score.argmax().item()
    with pytest.raises(ValueError, match="invalid mode 'oops'"):
        model(x, mode='oops')


def test_label_smoothing_matches_its_formula():
    model = build(head=dict(loss=dict(type='CrossEntropyLoss', label_smoothing=0.2))).train()
    x = torch.randn(2, 5, 17, 3)
    logits = model(x, mode='tensor')
    labels = torch.tensor([2, 0])
    logp = logits.log_softmax(-1)
    target = torch.full_like(logp, 0.2 / 4)
    target[torch.arange(2), labels] += 0.8
    expected = -(target * logp).sum(-1).mean()
    got = model(x, samples([2, 0]), mode='loss')['loss_cls']
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_pooling_options():
    feats = torch.randn(2, 5, 17, 16)
    head = MODELS.build(dict(type='ActionClassificationHead', in_channels=16, num_classes=3))
    torch.testing.assert_close(head.pool(feats), feats.mean((1, 2)))
    head = MODELS.build(dict(type='ActionClassificationHead', in_channels=16, num_classes=3,
                             temporal_pool='max', joint_pool='flatten', num_joints=17,
                             hidden_dims=8, dropout=0.5))
    torch.testing.assert_close(head.pool(feats), feats.amax(1).flatten(1))
    assert head.fc.in_features == 8 and head.pre_logits[1].in_features == 17 * 16
    assert head(feats).shape == (2, 3)
    with pytest.raises(ValueError, match=r'features must have shape \(B, T, J, 16\)'):
        head(torch.randn(2, 5, 16))
    with pytest.raises(ValueError, match='num_classes must be an integer >= 2'):
        MODELS.build(dict(type='ActionClassificationHead', in_channels=16, num_classes=1))
    # inside the recognizer, flatten takes J from the backbone
    model = build(head=dict(joint_pool='flatten'))
    assert model.head.num_joints == 17 and model(torch.randn(1, 4, 17, 3)).shape == (1, 4)


def test_flip_test_averages_the_mirrored_clip():
    model = build(test_cfg=dict(flip_test=True)).eval()
    x = torch.randn(2, 6, 17, 3)
    ds = samples([0, 1])
    flip = ds[0].metainfo['flip_indices']
    mirrored = x[..., flip, :] * torch.tensor([-1.0, 1.0, 1.0])
    expected = (model(x).softmax(-1) + model(mirrored).softmax(-1)) / 2
    got = torch.stack([o.pred_score for o in model(x, ds, mode='predict')])
    torch.testing.assert_close(got, expected)


def test_frozen_backbone_trains_the_head_only():
    model = build(frozen=('backbone', )).train()
    assert not model.backbone.training and model.head.training
    model(torch.randn(2, 5, 17, 3), samples([0, 1]), mode='loss')['loss_cls'].backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.head.fc.weight.grad is not None
    with pytest.raises(ValueError, match="only 'backbone' can be frozen"):
        build(frozen=('head', ))


def test_loads_the_crl_pretrained_student(tmp_path):
    torch.manual_seed(1)
    distiller = MODELS.build(dict(type='ContextualDistiller', backbone=BACKBONE,
                                  target_generator=dict(top_k=1)))
    with torch.no_grad():   # weights no fresh initialisation could give
        for p in distiller.backbone.parameters():
            p.add_(torch.randn_like(p))
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=distiller.state_dict(), meta=dict()), ckpt)
    model = build(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=str(ckpt),
                                              prefix='backbone.')))
    before = model.backbone.embed.weight.detach().clone()
    model.init_weights()
    student = distiller.backbone.state_dict()
    loaded = model.backbone.state_dict()
    assert set(loaded) == set(student)
    for k, v in loaded.items():   # every backbone weight is the student's (not the teacher's)
        torch.testing.assert_close(v, student[k], rtol=0, atol=0, msg=k)
    assert not torch.equal(before, model.backbone.embed.weight)
    teacher = distiller.teacher.module.embed.weight
    assert not torch.equal(model.backbone.embed.weight, teacher)
