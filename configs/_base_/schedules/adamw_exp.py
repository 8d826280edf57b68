# The paper's fine-tuning schedule: AdamW lr 5e-4, weight decay 0.01, lr x0.99 per epoch.
max_epochs = 60
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.01),
    clip_grad=None,
)
param_scheduler = [dict(type='ExponentialLR', gamma=0.99, by_epoch=True, end=max_epochs)]
# resumes a checkpoint written mid-epoch at the batch where it stopped (needs SeededSampler)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
auto_scale_lr = dict(base_batch_size=16, enable=False)
