# Ablation arm (study 'tau_schedule'): a constant teacher weight tau = 0.999 instead of the
# linear rise 0.99 -> 0.999 (data2vec's and the paper's schedule).
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(teacher=dict(tau_start=0.999, tau_end=0.999))
