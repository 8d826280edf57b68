# As dualpose-b_h36m-vp3d-cpn-243f.py with ground-truth 2D input: VideoPose3D's
# data_2d_h36m_gt.npz (the 3D label projected through each camera, with its distortion),
# confidence 1. Without that file, set use_gt_2d=True on the datasets: the loader projects the
# 3D label itself (the same numbers).
_base_ = ['./dualpose-b_h36m-vp3d-cpn-243f.py']

gt2d = dict(ann_file_2d='data_2d_h36m_gt.npz')
train_dataloader = dict(dataset=gt2d)
val_dataloader = dict(dataset=gt2d)
test_dataloader = dict(dataset=gt2d)
