# Baseline: Transformer stream only, same budget and data as dualpose-tiny_synthetic-27f.
# Twice the depth so its parameter count roughly matches the dual-stream model.
_base_ = ['./dualpose-tiny_synthetic-27f.py']

model = dict(backbone=dict(streams=('transformer', ), arch=dict(depth=7)))
