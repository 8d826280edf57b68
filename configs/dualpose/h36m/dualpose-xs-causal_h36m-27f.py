# DualStreamFormer-XS (C 64, N 12) made causal for live lifting (look-back W = 27 frames).
_base_ = ['./dualpose-xs_h36m-27f.py']

model = dict(backbone=dict(causal=True, window={{_base_.seq_len}}))
