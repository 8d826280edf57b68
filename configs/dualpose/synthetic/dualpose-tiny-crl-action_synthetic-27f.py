# Action recognition on the SYNTHETIC data with few labels (S1's clips), the backbone initialised
# from the CRL pre-trained student (dualpose-tiny-crl-pretrain_synthetic-27f: the 2D of all
# training subjects, no labels). Otherwise exactly dualpose-tiny-action_synthetic-27f.
# Pre-train first (python tools/train.py configs/dualpose/synthetic/
# dualpose-tiny-crl-pretrain_synthetic-27f.py) or name another checkpoint with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH.
_base_ = ['./dualpose-tiny-action_synthetic-27f.py']

pretrained = 'work_dirs/dualpose-tiny-crl-pretrain_synthetic-27f/epoch_1.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
