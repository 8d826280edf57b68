# Ablation arm (study 'top_k'): the teacher's target averages the top quarter of its blocks
# (K = depth // 4; 1 of this config's 4) instead of half (paper: 8 of 16). The ablation driver
# sets K from the depth of the budget it runs (tools/analysis/ablation.py, TOP_K_FRACTION).
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(target_generator=dict(top_k=1))
