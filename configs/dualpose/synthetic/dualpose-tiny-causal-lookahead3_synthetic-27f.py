# The causal model of dualpose-tiny-causal_synthetic-27f with a look-ahead of 3 frames: the
# estimate of frame t reads frames up to t + 3 (60 ms at the data's 50 frames per second), so
# a live stream answers 3 frames late (LiftingStream.delay) in exchange for some accuracy.
# Every temporal layer still looks back over the last 27 frames.
_base_ = ['./dualpose-tiny-causal_synthetic-27f.py']

model = dict(backbone=dict(lookahead=3))
