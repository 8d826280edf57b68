# Baseline: a per-frame residual MLP lifter (no temporal context), same budget and data as
# dualpose-tiny_synthetic-27f.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='FrameMLP',
        num_joints={{_base_.dataset_info.num_joints}},
        hidden_dims=512,
        num_blocks=2,
        embed_dims=32,
    ))
