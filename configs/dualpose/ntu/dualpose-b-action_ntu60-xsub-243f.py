# Action recognition on NTU RGB+D 60, cross-subject benchmark (training performers 1, 2, 4, 5,
# 8, 9, 13-19, 25, 27, 28, 31, 34, 35, 38): DualStreamFormer-B on the 2D colour-image joints of
# the first body, converted from Kinect's 25 joints to H36M-17 and resampled to 243 frames;
# the backbone starts from the CRL pre-training of configs/dualpose_pretrain.py (2D of
# Human3.6M; from scratch: --cfg-options model.backbone.init_cfg=None). NOT measured by this
# project: the NTU files cannot be downloaded here. Where to put them, and the joint mapping:
# docs/action_recognition.md.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/dualpose_action.py',
    '../../_base_/schedules/adamw_exp.py',
    '../../_base_/datasets/h36m.py',
]

seq_len = 243
data_root = 'data/ntu/'
benchmark = 'xsub'
num_classes = 60
max_epochs = 30
pretrained = 'work_dirs/dualpose_pretrain/epoch_60.pth'

model = dict(
    backbone=dict(
        arch='b',
        skeleton_links={{_base_.dataset_info.skeleton_links}},
        num_joints={{_base_.dataset_info.num_joints}},
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.'),
    ),
    head=dict(num_classes=num_classes, hidden_dims=512, dropout=0.5),
)

param_scheduler = [dict(type='ExponentialLR', gamma=0.95, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
# no validation split in the benchmark: the last epoch is tested
default_hooks = dict(checkpoint=dict(save_best=None))

train_pipeline = [
    dict(type='NormalizeScreen'),
    dict(type='RandomFlipLifting', prob=0.5),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='NormalizeScreen'),
    dict(type='PackActionInputs'),
]
common = dict(type='NTURGBDDataset', data_root=data_root, skeleton_dir='nturgb+d_skeletons',
              benchmark=benchmark, num_classes=num_classes,
              missing_list='samples_with_missing_skeletons.txt', sampling='resample',
              body='first', coords='color', metainfo={{_base_.dataset_info}})
train_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(**common, split='train', pipeline=train_pipeline))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**common, split='test', pipeline=test_pipeline, test_mode=True))
test_evaluator = dict(type='ActionAccuracyMetric', topk=(1, 5))
test_cfg = dict()
