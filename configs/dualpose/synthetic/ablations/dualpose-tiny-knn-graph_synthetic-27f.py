# Ablation arm (study 'temporal_graph'): the GCN stream's temporal graph links each frame to
# its k=2 most similar frames in feature space, itself allowed (MotionAGFormer's top-k),
# instead of the banded (t-1, t+1) graph.
_base_ = ['../dualpose-tiny_synthetic-27f.py']

model = dict(backbone=dict(gcn_stream=dict(temporal_graph='knn')))  # knn_self=True: the default
