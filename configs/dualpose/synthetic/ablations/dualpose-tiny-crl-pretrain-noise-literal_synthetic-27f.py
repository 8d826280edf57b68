# Ablation arm (study 'masking_noise'): the paper's Gaussian-noise masking read literally, as
# this project did before it was measured: all three input channels of a masked token, its
# confidence included, replaced by N(0, 1) in normalised screen units (wider than the body).
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(mode='noise-literal', noise_std=1.0))
