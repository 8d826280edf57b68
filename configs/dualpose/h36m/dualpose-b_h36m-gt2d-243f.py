# As dualpose-b_h36m-243f with ground-truth 2D input (projected 3D labels, confidence 1).
_base_ = ['./dualpose-b_h36m-243f.py']

train_dataloader = dict(dataset=dict(use_gt_2d=True))
val_dataloader = dict(dataset=dict(use_gt_2d=True))
test_dataloader = dict(dataset=dict(use_gt_2d=True))
