# MPI-INF-3DHP in the common npz layout (data_train_3dhp.npz, data_test_3dhp.npz; see
# docs/datasets.md): 17 joints, root 14 (pelvis), ground-truth 2D with confidence 1, 2D and 3D
# normalised by the image width (2048; TS5 and TS6 1920x1080). The test sequences TS1-TS6 are
# scored on their valid frames with PCK at 150 mm, AUC over 0..150 mm and MPJPE
# (MpiInf3dhpMetric), per sequence, per scene and overall.
_base_ = ['./datasets/mpi_inf_3dhp.py']

seq_len = 81
dataset_type = 'MpiInf3dhpDataset'
data_root = 'data/mpi_inf_3dhp/'
train_file = 'data_train_3dhp.npz'
test_file = 'data_test_3dhp.npz'
# validation: training sequences held out (all their cameras), never the test sequences
holdout_train = dict(fraction=0.1, part='train', seed=0)
holdout_val = dict(fraction=0.1, part='val', seed=0)

train_pipeline = [
    dict(type='NormalizeScreen'),
    dict(type='RandomFlipLifting', prob=0.5),
    dict(type='PackLiftingInputs'),
]
test_pipeline = [
    dict(type='NormalizeScreen'),
    dict(type='PackLiftingInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file=train_file, split='train',
        metainfo={{_base_.dataset_info}}, pipeline=train_pipeline,
        holdout=holdout_train),
)
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file=train_file, split='train',
        stride='seq_len', metainfo={{_base_.dataset_info}},
        pipeline=test_pipeline, holdout=holdout_val, test_mode=True),
)
val_evaluator = dict(type='PoseLiftingMetric', metrics=['mpjpe', 'p_mpjpe'])
test_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file=test_file, split='test',
        metainfo={{_base_.dataset_info}}, pipeline=test_pipeline,
        test_mode=True),
)
test_evaluator = dict(type='MpiInf3dhpMetric', scenes={{_base_.dataset_info.scenes}})
test_cfg = dict()
