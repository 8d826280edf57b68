# Ablation arm (study 'num_masks'): M=5 differently-masked copies of each sample instead of 3.
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(masking=dict(num_masks=5))
