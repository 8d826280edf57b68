# DualStreamFormer-B, T=243, the recipe of dualpose-b_h36m-243f.py on Human3.6M in
# VideoPose3D's npz layout with CPN detections: the "CPN rows" of the literature. The world 3D
# of data_3d_h36m.npz goes to camera space with the public camera constants; MPJPE (P1) and
# P-MPJPE (P2) are in camera-space root-relative millimetres, per action then mean over the 15
# actions, every S9/S11 video scored (this protocol has no skip-list). Train S1 S5 S6 S7 S8
# (10% of their recordings held out for validation), test S9 S11. Files: docs/datasets.md.
_base_ = ['./dualpose-b_h36m-243f.py']

data_root = 'data/h36m_vp3d/'
vp3d = dict(type='Human36mVp3dDataset', data_root=data_root, ann_file='data_3d_h36m.npz',
            ann_file_2d='data_2d_h36m_cpn_ft_h36m_dbb.npz')
train_dataloader = dict(dataset=vp3d)
val_dataloader = dict(dataset=vp3d)
test_dataloader = dict(dataset=vp3d)
val_evaluator = dict(type='PoseLiftingMetric', skip_videos=None)
test_evaluator = dict(type='PoseLiftingMetric', skip_videos=None, per_joint=True)
