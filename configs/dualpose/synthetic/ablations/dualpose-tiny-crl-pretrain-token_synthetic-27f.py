# Ablation arm (study 'masking'): masked tokens replaced by a learned mask token after the
# position embedding (as the public code does) instead of Gaussian noise on the 2D input;
# tokens masked independently (Bernoulli).
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(mode='token'))  # token_position='after_pos': the default
