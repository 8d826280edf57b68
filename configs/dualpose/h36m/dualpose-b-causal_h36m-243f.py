# DualStreamFormer-B made causal for live lifting (look-back W = 243 frames, no look-ahead);
# otherwise the paper's recipe of dualpose-b_h36m-243f.
_base_ = ['./dualpose-b_h36m-243f.py']

model = dict(backbone=dict(causal=True, window={{_base_.seq_len}}))
