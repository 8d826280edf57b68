# The default synthetic config with the GCN stream swapped for the example's TemporalConvStream
# and a bone-length loss added, both defined in projects/example_project/example_project/.
_base_ = ['../../../configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py']

custom_imports = dict(imports=['projects.example_project.example_project'],
                      allow_failed_imports=False)

model = dict(
    backbone=dict(
        gcn_stream=dict(_delete_=True, type='TemporalConvStream', kernel_size=3,
                        dilations=(1, 2))),
    head=dict(loss=[
        dict(type='MPJPELoss', loss_weight=1.0),
        dict(type='NMPJPELoss', loss_weight=0.5),
        dict(type='VelocityLoss', loss_weight=20.0),
        dict(type='BoneLengthLoss', skeleton_links={{_base_.dataset_info.skeleton_links}},
             loss_weight=1.0),
    ]),
)
