# Supervised fine-tuning of the CRL-pre-trained DualStreamFormer-B on Human3.6M: the student's
# embedding and blocks are loaded from the pre-training checkpoint, the regression head starts
# fresh; the paper's fine-tuning loss (MPJPE + 0.5 N-MPJPE + 20 velocity) and schedule.
# Set `pretrained` (or --cfg-options model.backbone.init_cfg.checkpoint=...) to your checkpoint.
_base_ = ['./dualpose/h36m/dualpose-b_h36m-243f.py']

pretrained = 'work_dirs/dualpose_pretrain/epoch_60.pth'
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
data_hint = dict(synthetic_config='configs/dualpose/synthetic/dualpose-tiny-crl-finetune_synthetic-27f.py')
