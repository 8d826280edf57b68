# Fine-tune the CRL-pre-trained tiny DualStreamFormer (C 32, N 4) on the SYNTHETIC data (3D
# labels of all training subjects): the second stage of README's quick start (about 5 min on 2
# CPU cores). Run dualpose-tiny-crl-pretrain_synthetic-27f first (tools/quickstart.sh runs both
# and passes the pre-training's checkpoint with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH). Budget: 4 epochs of non-overlapping
# windows (stride 27: 89 iterations of 32 clips each), lr 1e-3 x0.8 per epoch; the best
# validated epoch (held-out training recordings) is the one to test.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

pretrained = 'work_dirs/dualpose-tiny-crl-pretrain_synthetic-27f/epoch_1.pth'
max_epochs = 4
model = dict(
    backbone=dict(arch=dict(embed_dims=32),
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
param_scheduler = [dict(type='ExponentialLR', gamma=0.8, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(dataset=dict(stride=27))
