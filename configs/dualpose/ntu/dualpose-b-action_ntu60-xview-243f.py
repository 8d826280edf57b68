# Action recognition on NTU RGB+D 60, cross-view benchmark (cameras 2 and 3 train, camera 1
# tests); otherwise as dualpose-b-action_ntu60-xsub-243f. NOT measured by this project
# (docs/action_recognition.md).
_base_ = ['./dualpose-b-action_ntu60-xsub-243f.py']

benchmark = 'xview'
train_dataloader = dict(dataset=dict(benchmark=benchmark))
test_dataloader = dict(dataset=dict(benchmark=benchmark))
