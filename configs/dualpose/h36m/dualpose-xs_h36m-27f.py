# DualStreamFormer-XS (C 64, N 12), T=27; otherwise as the B config.
_base_ = ['./dualpose-b_h36m-243f.py']

seq_len = 27
model = dict(backbone=dict(arch='xs'))
