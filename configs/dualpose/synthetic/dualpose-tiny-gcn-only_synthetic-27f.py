# Baseline: GCN stream only (skeleton + banded temporal graph convolution), same budget and data
# as dualpose-tiny_synthetic-27f. Depth 9 so its parameter count roughly matches the
# dual-stream model (0.203 M against 0.198 M).
_base_ = ['./dualpose-tiny_synthetic-27f.py']

model = dict(backbone=dict(streams=('gcn', ), arch=dict(depth=9)))
