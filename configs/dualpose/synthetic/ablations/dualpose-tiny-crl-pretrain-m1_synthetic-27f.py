# Ablation arm (study 'num_masks'): one masked copy per sample, M = 1 (paper: M = 3).
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(num_masks=1))
