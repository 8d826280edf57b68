# Ablation arm (tools/analysis/ablation.py, study 'fusion'): the streams fused by their mean
# instead of the adaptive per-token weights; otherwise dualpose-tiny_synthetic-27f.
_base_ = ['../dualpose-tiny_synthetic-27f.py']

model = dict(backbone=dict(fusion=dict(type='MeanFusion')))
