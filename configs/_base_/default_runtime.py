default_scope = 'dualpose'
# crash-safe checkpoints, auto-resume that skips unreadable files, strict checkpoint loading
runner_type = 'DualposeRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # the best epoch by validation MPJPE (a held-out part of the training subjects) is kept
    # as best_lift_mpjpe_epoch_*.pth; configs without validation set save_best=None
    checkpoint=dict(type='DualposeCheckpointHook', interval=1, max_keep_ckpts=2, save_best='lift/mpjpe',
                    rule='less'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
# random generator states in checkpoints (exact resume); validation leaves them untouched
custom_hooks = [dict(type='RandomStateHook')]

visualizer = dict(type='Visualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
# deterministic=True (or tools/train.py --deterministic): deterministic algorithms only
randomness = dict(seed=0, deterministic=False)
