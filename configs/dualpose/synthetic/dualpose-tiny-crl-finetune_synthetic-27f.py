# Fine-tune the CRL-pre-trained tiny DualStreamFormer on the SYNTHETIC data (all training
# subjects), same budget as dualpose-tiny_synthetic-27f. Run dualpose-tiny-crl-pretrain_synthetic-27f first.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

pretrained = 'work_dirs/dualpose-tiny-crl-pretrain_synthetic-27f/epoch_3.pth'
# the width of dualpose-tiny-crl-pretrain_synthetic-27f (C 32) and the budget of the CRL study (8 epochs,
# lr x0.9 per epoch), not the default's C 64 and 5 epochs
max_epochs = 8
model = dict(
    backbone=dict(arch=dict(embed_dims=32),
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
param_scheduler = [dict(type='ExponentialLR', gamma=0.9, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
