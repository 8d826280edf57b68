# MPI-INF-3DHP, the 17-joint test skeleton (the order of the common npz files), root 14.
dataset_info = dict(
    dataset_name='mpi_inf_3dhp',
    num_joints=17,
    joint_names=[
        'head_top', 'neck', 'right_shoulder', 'right_elbow', 'right_wrist', 'left_shoulder',
        'left_elbow', 'left_wrist', 'right_hip', 'right_knee', 'right_ankle', 'left_hip',
        'left_knee', 'left_ankle', 'pelvis', 'spine', 'head'
    ],
    skeleton_links=[(14, 8), (8, 9), (9, 10), (14, 11), (11, 12), (12, 13), (14, 15), (15, 1),
                    (1, 16), (16, 0), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7)],
    flip_pairs=[(2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13)],
    root_index=14,
    # image (width, height) in pixels: the studio cameras, and the outdoor test sequences
    default_image_size=(2048, 2048),
    sequence_sizes={'TS5': (1920, 1080), 'TS6': (1920, 1080)},
    # test sequences per scene: green screen, studio without green screen, outdoor
    scenes={'GS': ('TS1', 'TS2'), 'noGS': ('TS3', 'TS4'), 'Outdoor': ('TS5', 'TS6')},
)
