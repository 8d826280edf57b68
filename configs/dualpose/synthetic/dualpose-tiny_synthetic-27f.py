# The embedded default: a small DualStreamFormer (C 64, N 4, 0.76 M parameters) on the SYNTHETIC
# Human3.6M-layout dataset of generator v2 (tools/dataset_converters/make_synthetic_h36m.py),
# sized for 2 CPU cores. Same loss, optimiser and augmentation as the paper's recipe; fewer
# epochs (5, learning rate x0.8 per epoch), T=27.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/dualpose_lifter.py',
    '../../_base_/schedules/adamw_exp.py',
    '../../_base_/h36m_pickle_data.py',
]

seq_len = 27  # the window, set once: every dataloader takes it (utils/config.py)
data_root = 'data/h36m_synthetic/'
max_epochs = 5
embed_dims = 64

model = dict(
    backbone=dict(
        arch=dict(embed_dims=embed_dims, depth=4, num_heads=4),
        skeleton_links={{_base_.dataset_info.skeleton_links}},
        num_joints={{_base_.dataset_info.num_joints}},
    ),
    head=dict(hidden_dims=256),
)

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='ExponentialLR', gamma=0.8, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=20))

train_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
test_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root))
# the synthetic videos have no corrupted ground truth: score every frame
val_evaluator = dict(skip_videos=None)
test_evaluator = dict(skip_videos=None)
