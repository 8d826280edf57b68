# The embedded default with a trajectory head: where the person is, in millimetres in the
# camera frame (docs/inference.md, "Units and frames"). The lifter's weights are the shipped
# demo checkpoint's, frozen, so its poses stay exactly as they were; only the TrajectoryHead
# (0.06 M parameters) is trained, VideoPose3D-style: the root's camera-space position,
# loss weighted by the inverse of the true depth, on the synthetic camera-space ground truth
# (joint3d_camera, camera_intrinsics: files of make_synthetic_h36m.py since the trajectory
# head was added). The frozen backbone's forward is most of the cost, so training windows
# do not overlap (stride 27: 2,843 clips an epoch); 3 epochs, about 12 min on 2 CPU cores.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

pretrained = 'demo/checkpoints/dualpose-tiny_synthetic-27f.pth'
max_epochs = 3
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    head=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='head.')),
    traj_head=dict(type='TrajectoryHead', hidden_dims=128,
                   loss=dict(type='TrajectoryLoss', loss_weight=1.0)),
    frozen=('backbone', 'head'),
)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [dict(type='ExponentialLR', gamma=0.5, by_epoch=True, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(dataset=dict(with_camera=True, stride=27))
val_dataloader = dict(dataset=dict(with_camera=True))
test_dataloader = dict(dataset=dict(with_camera=True))
val_evaluator = [dict(type='PoseLiftingMetric', skip_videos=None),
                 dict(type='CameraSpaceMetric', skip_videos=None)]
test_evaluator = [dict(type='PoseLiftingMetric', skip_videos=None),
                  dict(type='CameraSpaceMetric', skip_videos=None)]
default_hooks = dict(checkpoint=dict(save_best='camera/root_error', rule='less'))
