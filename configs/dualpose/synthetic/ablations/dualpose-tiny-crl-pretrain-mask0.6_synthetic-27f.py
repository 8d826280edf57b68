# Ablation arm (study 'mask_ratio'): CRL pre-training with mask ratio P = 0.6 (paper: 0.7).
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(ratio=0.6))
