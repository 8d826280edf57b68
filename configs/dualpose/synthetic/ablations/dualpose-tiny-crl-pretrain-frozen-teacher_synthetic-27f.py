# Ablation arm (study 'teacher'): the teacher is a frozen copy of the initial student instead
# of its EMA.
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(teacher=dict(frozen=True))
