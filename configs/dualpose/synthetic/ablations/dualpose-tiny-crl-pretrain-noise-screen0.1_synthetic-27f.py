# Ablation arm (study 'masking_noise'): masked coordinates replaced by N(0, 0.1) in normalised
# screen units (the image width spans 2), centred on the screen rather than on the body;
# confidence 0 as the default.
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(noise_scale='screen', noise_std=0.1))
