# Ablation arm (study 'teacher_embedding'): the teacher uses the student's input and position
# embeddings (data2vec shares its feature encoder between student and teacher) instead of
# their moving average; only the blocks are averaged.
_base_ = ['../dualpose-tiny-crl-pretrain_synthetic-27f.py']

model = dict(teacher=dict(share_embedding=True))
