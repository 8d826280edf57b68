# The embedded default made causal for live lifting: every temporal layer looks back over the
# last 27 frames (the training clip) and never ahead, so a frame's pose depends on it and the
# frames before it only. dualpose.apis.LiftingStream and `demo/lift_keypoints.py --online`
# lift one frame at a time with it (docs/inference.md, "Live lifting").
_base_ = ['./dualpose-tiny_synthetic-27f.py']

model = dict(backbone=dict(causal=True, window={{_base_.seq_len}}))
