# Action recognition on the dual-stream Transformer-GCN backbone: features (B, T, J, C) pooled
# over time and joints, a linear classifier, cross-entropy with label smoothing 0.1 and flip
# test. Configs that inherit it set the skeleton (backbone.skeleton_links, backbone.num_joints),
# the size (backbone.arch) and head.num_classes; head.in_channels follows the backbone's width.
model = dict(
    type='ActionRecognizer',
    backbone=dict(
        type='DualStreamFormer',
        streams=('transformer', 'gcn'),
        gcn_stream=dict(type='GCNStream', temporal_graph='banded'),
        fusion=dict(type='AdaptiveFusion'),
    ),
    head=dict(
        type='ActionClassificationHead',
        temporal_pool='mean',
        joint_pool='mean',
        dropout=0.1,
        loss=dict(type='CrossEntropyLoss', label_smoothing=0.1)),
    test_cfg=dict(flip_test=True),
)
