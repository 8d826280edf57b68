# Low-label setting with pre-training: the backbone pre-trained by CRL on the 2D of all training
# subjects, fine-tuned with the 3D labels of S1 only (as dualpose-tiny_synthetic-s1-27f).
_base_ = ['./dualpose-tiny_synthetic-s1-27f.py']

pretrained = 'work_dirs/dualpose-tiny-crl-pretrain_synthetic-27f/epoch_1.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
