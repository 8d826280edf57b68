# Human3.6M 17-joint skeleton (H36M order), used by the real data and the synthetic default.
dataset_info = dict(
    dataset_name='h36m',
    num_joints=17,
    joint_names=[
        'pelvis', 'right_hip', 'right_knee', 'right_ankle', 'left_hip', 'left_knee',
        'left_ankle', 'spine', 'thorax', 'neck_nose', 'head', 'left_shoulder',
        'left_elbow', 'left_wrist', 'right_shoulder', 'right_elbow', 'right_wrist'
    ],
    skeleton_links=[(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9),
                    (9, 10), (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16)],
    flip_pairs=[(1, 4), (2, 5), (3, 6), (11, 14), (12, 15), (13, 16)],
    root_index=0,
    # image (width, height) in pixels of each camera
    camera_sizes={
        '54138969': (1000, 1002),
        '55011271': (1000, 1000),
        '58860488': (1000, 1000),
        '60457274': (1000, 1002),
    },
    # three S9 videos with corrupted ground truth, skipped by the standard protocol
    skip_videos=['s_09_act_05_subact_02', 's_09_act_10_subact_02', 's_09_act_13_subact_01'],
)
