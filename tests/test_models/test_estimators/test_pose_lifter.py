import pytest
import torch

from dualpose.registry import MODELS
from dualpose.structures import PoseDataSample
from dualpose.codecs import flip_pose
from dualpose.structures.skeleton import build_flip_indices
from tests.conftest import H36M_FLIP_PAIRS, H36M_LINKS

FLIP = build_flip_indices(H36M_FLIP_PAIRS, 17)


def build_lifter(flip_test=True):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='PoseLifter',
        backbone=dict(type='DualStreamFormer', arch=dict(embed_dims=16, depth=2, num_heads=4),
                      skeleton_links=H36M_LINKS, num_joints=17, layer_scale_init=1.0),
        head=dict(type='LiftingRegressionHead', in_channels=16, hidden_dims=32,
                  loss=[dict(type='MPJPELoss'), dict(type='NMPJPELoss', loss_weight=0.5),
                        dict(type='VelocityLoss', loss_weight=20.0)]),
        test_cfg=dict(flip_test=flip_test))).eval()


def samples(b, t, target=None):
    out = []
    for i in range(b):
        ds = PoseDataSample(metainfo=dict(flip_indices=FLIP, root_index=0))
        ds.gt_target = target[i] if target is not None else torch.zeros(t, 17, 3)
        out.append(ds)
    return out


def test_modes():
    model = build_lifter()
    x = torch.randn(2, 7, 17, 3)
    assert model(x, mode='tensor').shape == (2, 7, 17, 3)
    losses = model(x, samples(2, 7), mode='loss')
    assert set(losses) == {'loss_mpjpe', 'loss_n_mpjpe', 'loss_velocity'}
    preds = model(x, samples(2, 7), mode='predict')
    assert preds[0].pred.shape == (7, 17, 3) and torch.all(preds[0].pred[:, 0] == 0)
    with pytest.raises(ValueError, match='invalid mode'):
        model(x, mode='nope')


def test_flip_averaged_prediction_is_flip_equivariant():
    """With flip averaging, predicting the mirrored input gives the mirrored prediction."""
    model = build_lifter(flip_test=True)
    x = torch.randn(2, 5, 17, 3)
    p = model.predict_coords(x, FLIP)
    p_of_flipped = model.predict_coords(flip_pose(x, FLIP), FLIP)
    torch.testing.assert_close(p_of_flipped, flip_pose(p, FLIP), rtol=1e-4, atol=1e-5)
    # without averaging a random network is not equivariant: the test above can fail
    plain = build_lifter(flip_test=False)
    q = plain.predict_coords(x, FLIP)
    q_of_flipped = plain.predict_coords(flip_pose(x, FLIP), FLIP)
    assert (q_of_flipped - flip_pose(q, FLIP)).abs().max() > 1e-4


def test_training_step_reduces_loss():
    model = build_lifter().train()
    x = torch.randn(4, 9, 17, 3)
    target = torch.randn(4, 9, 17, 3) * 0.1
    target = target - target[:, :, :1]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    first = None
    for _ in range(30):
        loss = sum(model(x, samples(4, 9, target), mode='loss').values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.7 * first


def test_head_width_follows_the_backbone():
    cfg = dict(type='PoseLifter',
               backbone=dict(type='DualStreamFormer', arch=dict(embed_dims=24, depth=1,
                                                                num_heads=4),
                             skeleton_links=H36M_LINKS, num_joints=17),
               head=dict(type='LiftingRegressionHead', hidden_dims=8))
    model = MODELS.build(cfg)
    assert model.head.pre_logits[0].in_features == 24
    assert model(torch.zeros(1, 5, 17, 3)).shape == (1, 5, 17, 3)
    cfg['head']['in_channels'] = 32
    with pytest.raises(ValueError, match=r'head.in_channels=32 differs .* embed_dims=24'):
        MODELS.build(cfg)
    with pytest.raises(ValueError, match='needs in_channels'):
        MODELS.build(dict(type='LiftingRegressionHead'))
