# The dual-stream Transformer-GCN lifter with the paper's fine-tuning loss
# (MPJPE + 0.5 N-MPJPE + 20 velocity) and flip test. Configs that inherit it set the skeleton
# (backbone.skeleton_links, backbone.num_joints from their dataset's metainfo) and the size
# (backbone.arch; default B); head.in_channels follows the backbone's width.
model = dict(
    type='PoseLifter',
    backbone=dict(
        type='DualStreamFormer',
        streams=('transformer', 'gcn'),
        gcn_stream=dict(type='GCNStream', temporal_graph='banded'),
        fusion=dict(type='AdaptiveFusion'),
    ),
    head=dict(
        type='LiftingRegressionHead',
        loss=[
            dict(type='MPJPELoss', loss_weight=1.0),
            dict(type='NMPJPELoss', loss_weight=0.5),
            dict(type='VelocityLoss', loss_weight=20.0),
        ]),
    test_cfg=dict(flip_test=True),
)
