# Ablation arm (study 'noise_scale', our diagnostic): masking noise std 0.1 in normalised
# screen units instead of 1.0.
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(noise_std=0.1))
