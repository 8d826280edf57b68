# Low-label setting, from scratch: 3D labels of one training subject (S1) only. The arm to
# compare with dualpose-tiny-crl-finetune_synthetic-s1-27f (same schedule, same seed).
# Validation (choosing the best epoch) uses S1's held-out recordings only, so no 3D label of
# another subject is seen. Trained to convergence: up to 40 epochs of non-overlapping windows
# (stride 27: 82 iterations of 8 clips each), the learning rate decayed to 5.5% of its start,
# stopped when the validation MPJPE has not improved by 0.1 mm for 10 epochs; the best
# validated epoch is the one to test. Batch 8 by measurement: with 18 iterations of 32 clips
# per epoch every run sat on a plateau near 124 mm for 10 to 35 epochs before it learnt depth,
# which made the stopping epoch and the result a matter of luck (seed 1: 98 mm after 60
# epochs); at batch 8 the same seed left the plateau at epoch 12 and reached 73 mm by 30.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

max_epochs = 40
# the width of dualpose-tiny-crl-pretrain_synthetic-27f (C 32), so that its fine-tuned twin compares
model = dict(backbone=dict(arch=dict(embed_dims=32)))
param_scheduler = [dict(type='ExponentialLR', gamma=0.93, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(batch_size=8, dataset=dict(subjects=['S1'], stride=27))
val_dataloader = dict(dataset=dict(subjects=['S1']))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='EarlyStoppingHook', monitor='lift/mpjpe', rule='less', min_delta=0.1,
         patience=10),
]
