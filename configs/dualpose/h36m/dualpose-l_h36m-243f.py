# DualStreamFormer-L (C 256, N 16), T=243; otherwise as the B config.
_base_ = ['./dualpose-b_h36m-243f.py']

model = dict(backbone=dict(arch='l'))
