# Contextualized representation pre-training (CRL) of DualStreamFormer-B on Human3.6M 2D
# sequences, the paper's settings: mask ratio 0.7, M=3 masked copies, Gaussian-noise masking,
# targets = mean of the EMA teacher's top-8 block outputs (instance-normalised), L2 / sqrt(C).
# AdamW lr 5e-4, wd 0.01, batch 4, 60 epochs, lr x0.99 per epoch.
# Training subjects only (S1 S5 S6 S7 S8): the test split is never read here.
# No Human3.6M here? Try configs/dualpose/synthetic/dualpose-tiny-crl-pretrain_synthetic-27f.py.
_base_ = [
    './_base_/default_runtime.py',
    './_base_/schedules/adamw_exp.py',
    './_base_/h36m_pickle_data.py',
]

model = dict(
    type='ContextualDistiller',
    backbone=dict(
        type='DualStreamFormer',
        arch='b',
        skeleton_links={{_base_.dataset_info.skeleton_links}},
        num_joints={{_base_.dataset_info.num_joints}},
    ),
    # Gaussian-noise masking, read as corrupting a token's position: masked 2D coordinates
    # replaced by noise on the body's extent (std = the clip's RMS joint spread), their
    # confidence set to 0 as for an undetected joint (mode='noise-literal' overwrites all three
    # channels with N(0, 1) in screen units, the paper read literally; docs/pretraining.md)
    masking=dict(type='TokenMasking', num_masks=3, ratio=0.7, mode='noise', noise_scale='body',
                 noise_std=1.0, masked_confidence=0.0),
    target_generator=dict(type='TopKTargets', top_k=8, norm='instance'),
    head=dict(type='CRLHead', loss=dict(type='RepresentationLoss', mode='l2')),
    # tau 0.999 -> 0.9999 over the first 10 of 60 epochs (about 48k iterations at batch 4)
    teacher=dict(tau_start=0.999, tau_end=0.9999, tau_iters=48000),
)

# pre-training sees no 3D labels and is not evaluated: no val/test loops, all recordings of
# the training subjects are used
train_dataloader = dict(batch_size=4, dataset=dict(holdout=None))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
default_hooks = dict(checkpoint=dict(save_best=None))
data_hint = dict(synthetic_config='configs/dualpose/synthetic/dualpose-tiny-crl-pretrain_synthetic-27f.py')

# Extra unlabeled 2D sequences (any dataset giving 2D only) join by concatenation, e.g.:
# train_dataloader = dict(dataset=dict(
#     _delete_=True, type='ConcatDataset', datasets=[
#         {{_base_.train_dataloader.dataset}},
#         dict(type='Pose2dSequenceDataset', ann_file='data/extra_2d/sequences.npz',
#              metainfo={{_base_.dataset_info}}, pipeline={{_base_.train_pipeline}}),
#     ]))
