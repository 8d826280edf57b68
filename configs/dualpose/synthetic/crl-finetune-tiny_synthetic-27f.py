# Fine-tune the CRL-pre-trained tiny DualStreamFormer on the SYNTHETIC data (all training
# subjects), same budget as dualpose-tiny_synthetic-27f. Run crl-pretrain-tiny_synthetic-27f first.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

pretrained = 'work_dirs/crl-pretrain-tiny_synthetic-27f/epoch_3.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
