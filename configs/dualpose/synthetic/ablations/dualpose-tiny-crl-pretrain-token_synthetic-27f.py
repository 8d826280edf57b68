# Ablation arm (study 'masking'): masked tokens replaced by a learned mask token instead of
# Gaussian noise on the 2D input.
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(mode='token'))
