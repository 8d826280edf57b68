# The embedded default made causal for live lifting: every temporal layer looks back over the
# last 27 frames (the training clip) and never ahead, so a frame's pose depends on it and the
# frames before it only. dualpose.apis.LiftingStream and `demo/lift_keypoints.py --online`
# lift one frame at a time with it (docs/inference.md, "Live lifting").
_base_ = ['./dualpose-tiny_synthetic-27f.py']

model = dict(backbone=dict(causal=True, window={{_base_.seq_len}}))
# scored as it runs live: one forward pass over each whole video equals lifting it frame by
# frame, so every frame keeps the look-back it has live (27-frame windows would give the
# first frames of each window almost none); clips differ in length, hence batch 1
val_dataloader = dict(batch_size=1, dataset=dict(whole_videos=True))
test_dataloader = dict(batch_size=1, dataset=dict(whole_videos=True))
