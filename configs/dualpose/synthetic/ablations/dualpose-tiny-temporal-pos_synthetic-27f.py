# Ablation arm (study 'temporal_pos'): a learned temporal position embedding added to the
# tokens (the paper uses none).
_base_ = ['../dualpose-tiny_synthetic-27f.py']

model = dict(backbone=dict(temporal_pos_embed=True))
