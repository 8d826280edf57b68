# Ablation arm (study 'masking'): the learned mask token after the position embedding, masked
# in runs of 5 joints (the public code's span masking) instead of independent tokens.
_base_ = ['./dualpose-tiny-crl-pretrain-token_synthetic-27f.py']

model = dict(masking=dict(span=5, span_dim='joint'))
