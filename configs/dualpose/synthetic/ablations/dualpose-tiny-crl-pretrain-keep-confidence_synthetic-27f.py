# Ablation arm (study 'masking_noise'): masked coordinates replaced by noise on the body's extent
# as the default, but the masked token keeps the detector's confidence instead of 0.
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(masked_confidence=None))
