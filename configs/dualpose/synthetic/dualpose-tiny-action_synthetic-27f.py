# Action recognition on the SYNTHETIC data from scratch, with few labels: the six movement
# families (Locomotion, Posture, UpperBody, Kick, Jump, Floor) as classes, labelled clips of
# one training subject (S1) only. The tiny DualStreamFormer of
# dualpose-tiny-crl-pretrain_synthetic-27f (C 32, N 4), so that its CRL-initialised twin
# dualpose-tiny-crl-action_synthetic-27f compares; T=27.
# Clips come from the frames of each recording certain to show its own family (first_segment:
# a synthetic recording may move on to other families after its first half). Validation on
# S5's clips is monitoring only (no best epoch is chosen from it: the last epoch is tested, so
# no label beyond S1's decides anything); the test split is S9 and S11.
# docs/action_recognition.md; tools/analysis/action_study.py runs both arms over 3 seeds.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/dualpose_action.py',
    '../../_base_/schedules/adamw_exp.py',
    '../../_base_/datasets/h36m.py',
]

seq_len = 27
data_root = 'data/h36m_synthetic/'
ann_file = 'h36m_sh_conf_cam_source_final.pkl'
dataset_type = 'Human36mActionDataset'
classes = ['Locomotion', 'Posture', 'UpperBody', 'Kick', 'Jump', 'Floor']
label_subjects = ['S1']
max_epochs = 12   # 18 steps of 32 clips each (S1's 564 clips, windows every 9 frames)

model = dict(
    backbone=dict(
        arch=dict(embed_dims=32, depth=4, num_heads=4),
        skeleton_links={{_base_.dataset_info.skeleton_links}},
        num_joints={{_base_.dataset_info.num_joints}},
    ),
    head=dict(num_classes=len(classes)),
)

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='ExponentialLR', gamma=0.9, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(save_best=None))

train_pipeline = [
    dict(type='NormalizeScreen'),
    dict(type='RandomFlipLifting', prob=0.5),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='NormalizeScreen'),
    dict(type='PackActionInputs'),
]
common = dict(type=dataset_type, data_root=data_root, ann_file=ann_file, classes=classes,
              first_segment=True, metainfo={{_base_.dataset_info}})
train_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(**common, split='train', subjects=label_subjects, stride=9,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**common, split='train', subjects=['S5'], stride='seq_len',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**common, split='test', stride='seq_len', pipeline=test_pipeline,
                 test_mode=True))
val_evaluator = dict(type='ActionAccuracyMetric', topk=(1, 5))
test_evaluator = dict(type='ActionAccuracyMetric', topk=(1, 5))
val_cfg = dict()
test_cfg = dict()
