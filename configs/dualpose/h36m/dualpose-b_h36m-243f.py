# DualStreamFormer-B (C 128, N 16), T=243, the paper's fine-tuning recipe from scratch on
# Human3.6M (MotionBERT pickle, detected 2D): AdamW 5e-4, wd 0.01, batch 16, 60 epochs,
# lr x0.99 per epoch, loss MPJPE + 0.5 N-MPJPE + 20 velocity, random flip, flip test.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/dualpose_lifter.py',
    '../../_base_/schedules/adamw_exp.py',
    '../../_base_/h36m_pickle_data.py',
]

model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.0,
        skeleton_links={{_base_.dataset_info.skeleton_links}},
        num_joints={{_base_.dataset_info.num_joints}},
    ),
)
