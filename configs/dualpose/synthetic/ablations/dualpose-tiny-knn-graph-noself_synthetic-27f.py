# Ablation arm (study 'temporal_graph'): the k-NN temporal graph with each frame's k=2 most
# similar *other* frames (a frame never its own neighbour).
_base_ = ['../dualpose-tiny_synthetic-27f.py']

model = dict(backbone=dict(gcn_stream=dict(temporal_graph='knn', knn_self=False)))
