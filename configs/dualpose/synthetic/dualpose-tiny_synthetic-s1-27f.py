# Low-label setting, from scratch: 3D labels of one training subject (S1) only. The arm to
# compare with dualpose-tiny-crl-finetune_synthetic-s1-27f (same iterations, same seed).
# Validation (choosing the best epoch) uses S1's held-out recordings only, so no 3D label of
# another subject is seen.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

max_epochs = 20
# the width of dualpose-tiny-crl-pretrain_synthetic-27f (C 32), so that its fine-tuned twin compares
model = dict(backbone=dict(arch=dict(embed_dims=32)))
param_scheduler = [dict(type='ExponentialLR', gamma=0.95, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(dataset=dict(subjects=['S1']))
val_dataloader = dict(dataset=dict(subjects=['S1']))
