# Human3.6M in the MotionBERT pickle layout (see docs/datasets.md). The synthetic configs
# override data_root; the real file is data/h36m/h36m_sh_conf_cam_source_final.pkl.
_base_ = ['./datasets/h36m.py']

seq_len = 243
dataset_type = 'Human36mDataset'
data_root = 'data/h36m/'
ann_file = 'h36m_sh_conf_cam_source_final.pkl'
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
    # augmentation drawn per sample from (seed, epoch, index): independent of workers,
    # processes and resumes
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file=ann_file, split='train',
        metainfo={{_base_.dataset_info}}, pipeline=train_pipeline,
        holdout=holdout_train),
)
# validation: recordings of the training subjects held out from training (10%, all camera
# views of a recording together). Choosing the best epoch never looks at the test subjects;
# the test split is scored once, by tools/test.py.
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file=ann_file, split='train',
        stride='seq_len', metainfo={{_base_.dataset_info}},
        pipeline=test_pipeline, holdout=holdout_val, test_mode=True),
)
val_evaluator = dict(type='PoseLiftingMetric', skip_videos={{_base_.dataset_info.skip_videos}})
test_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file=ann_file, split='test',
        metainfo={{_base_.dataset_info}}, pipeline=test_pipeline,
        test_mode=True),
)
test_evaluator = dict(type='PoseLiftingMetric', skip_videos={{_base_.dataset_info.skip_videos}})
test_cfg = dict()
