# DualStreamFormer-B (C 128, N 16), T=81, on MPI-INF-3DHP (ground-truth 2D, 17 joints,
# root 14): the H36M fine-tuning recipe (AdamW 5e-4, wd 0.01, batch 16, 60 epochs, lr x0.99
# per epoch, MPJPE + 0.5 N-MPJPE + 20 velocity, random flip, flip test). Tested with PCK@150 mm,
# AUC and MPJPE on the valid frames of TS1-TS6.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/dualpose_lifter.py',
    '../../_base_/schedules/adamw_exp.py',
    '../../_base_/mpi_inf_3dhp_data.py',
]

model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.0,
        skeleton_links={{_base_.dataset_info.skeleton_links}},
        num_joints={{_base_.dataset_info.num_joints}},
    ),
)
