# Low-label setting, from scratch: 3D labels of one training subject (S1) only. The arm to
# compare with dualpose-tiny-crl-finetune_synthetic-s1-27f (same schedule, same seed).
# Validation (choosing the best epoch) uses S1's held-out recordings only, so no 3D label of
# another subject is seen. Trained to convergence: up to 60 epochs of non-overlapping windows
# (stride 27: 18 iterations of 32 clips each), stopped when the validation MPJPE has not
# improved by 0.1 mm for 6 epochs; the best validated epoch is the one to test.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

max_epochs = 60
# the width of dualpose-tiny-crl-pretrain_synthetic-27f (C 32), so that its fine-tuned twin compares
model = dict(backbone=dict(arch=dict(embed_dims=32)))
param_scheduler = [dict(type='ExponentialLR', gamma=0.95, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(dataset=dict(subjects=['S1'], stride=27))
val_dataloader = dict(dataset=dict(subjects=['S1']))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='EarlyStoppingHook', monitor='lift/mpjpe', rule='less', min_delta=0.1,
         patience=6),
]
