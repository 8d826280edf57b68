"""NTU RGB+D skeleton files, written here in the released text layout: the reader (valid,
multi-body, untracked joints, malformed files named by file and line), the file names and the
standard splits, the dataset's clips (body choice, conversion, resampling, normalisation)."""
import numpy as np
import pytest

from dualpose.datasets.datasets.ntu_rgbd import (NTU_XSUB_TRAIN_PERFORMERS, NTURGBDDataset,
                                                 ntu_split, parse_ntu_name, read_ntu_skeleton)
from dualpose.keypoints import NTU25_JOINTS, build_converter


def body_lines(body_id, joints, tracking=None, joint_count=25):
    """The lines of one body: its info line, the joint count and one line per joint.
    ``joints`` (25, 11): x y z depthX depthY colorX colorY orientation (4)."""
    tracking = np.full(len(joints), 2) if tracking is None else tracking
    out = [f'{body_id} 0 1 1 1 1 0 0.01 -0.02 2', str(joint_count)]
    for row, state in zip(joints, tracking):
        out.append(' '.join(f'{v:.6f}' for v in row) + f' {int(state)}')
    return out


def make_joints(rng, shift=(0.0, 0.0), spread=1.0):
    """(25, 11) plausible values: 3D in metres, colour pixels near the image centre."""
    j = np.zeros((25, 11))
    j[:, :3] = rng.normal(0, 0.3 * spread, (25, 3)) + [0, 0, 3]
    j[:, 3:5] = rng.uniform(200, 300, (25, 2))
    j[:, 5] = 960 + shift[0] + rng.normal(0, 80 * spread, 25)
    j[:, 6] = 540 + shift[1] + rng.normal(0, 120 * spread, 25)
    j[:, 7] = 1.0
    return j


def write_skeleton(path, frames):
    """``frames``: per frame a list of (body_id, joints (25, 11), tracking or None)."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints, tracking in bodies:
            lines += body_lines(body_id, joints, tracking)
    path.write_text('\n'.join(lines) + '\n')
    return path


def test_reader_valid_file(tmp_path):
    rng = np.random.default_rng(0)
    joints = [make_joints(rng) for _ in range(3)]
    path = write_skeleton(tmp_path / 'S001C001P001R001A001.skeleton',
                          [[('72057594037931101', j, None)] for j in joints])
    sk = read_ntu_skeleton(str(path))
    assert sk.num_frames == 3 and len(sk.bodies) == 1
    body = sk.bodies[0]
    assert body.body_id == '72057594037931101'
    assert body.frames.tolist() == [0, 1, 2]
    assert body.joints.shape == (3, 25, 11) and body.tracking.shape == (3, 25)
    np.testing.assert_allclose(body.joints, np.stack(joints), atol=1e-6)
    assert (body.tracking == 2).all()


def test_reader_multi_body_and_empty_frames(tmp_path):
    rng = np.random.default_rng(1)
    a, b = make_joints(rng), make_joints(rng)
    path = write_skeleton(tmp_path / 'S001C001P001R001A050.skeleton', [
        [],                                   # nobody in frame 1
        [('11', a, None)],
        [('11', a, None), ('22', b, None)],
        [('22', b, None)],
    ])
    sk = read_ntu_skeleton(str(path))
    assert sk.num_frames == 4
    assert [x.body_id for x in sk.bodies] == ['11', '22']
    assert sk.bodies[0].frames.tolist() == [1, 2] and sk.bodies[1].frames.tolist() == [2, 3]


@pytest.mark.parametrize('edit, line, message', [
    (lambda ls: ls[:-5], 25, 'the file ends before joint 21 of body 1, frame 1 of 1'),
    (lambda ls: ls[:3] + ['24'] + ls[4:], 4, 'has 24 joints, expected 25'),
    (lambda ls: ls[:6] + [ls[6].replace('0.', 'x.', 1)] + ls[7:], 7, 'is not a number'),
    (lambda ls: ls[:6] + [' '.join(ls[6].split()[:11])] + ls[7:], 7,
     'expected 12 values, found 11'),
    (lambda ls: ['two'] + ls[1:], 1, "'two' is not an integer"),
    (lambda ls: ls + ['0'], 30, 'content after the last of the 1 frames'),
    (lambda ls: ls[:2] + [ls[2].replace('0 1 1', 'zero 1 1', 1)] + ls[3:], 3,
     "'zero' is not a number"),
])
def test_reader_malformed_file_names_file_and_line(tmp_path, edit, line, message):
    rng = np.random.default_rng(2)
    path = write_skeleton(tmp_path / 'S001C001P001R001A001.skeleton',
                          [[('7', make_joints(rng), None)]])
    lines = path.read_text().rstrip('\n').split('\n')
    assert len(lines) == 29   # frame count, body count, body line, joint count, 25 joints
    path.write_text('\n'.join(edit(lines)) + '\n')
    with pytest.raises(ValueError) as err:
        read_ntu_skeleton(str(path))
    assert f'{path}, line {line}:' in str(err.value) and message in str(err.value)


def test_names_and_standard_splits():
    ids = parse_ntu_name('S001C002P003R002A013.skeleton')
    assert ids == dict(setup=1, camera=2, performer=3, replication=2, action=13)
    with pytest.raises(ValueError, match='not an NTU RGB\\+D file name'):
        parse_ntu_name('clip_0001.skeleton')
    # cross-subject: the 20 training performers; cross-view: cameras 2 and 3 train
    assert len(NTU_XSUB_TRAIN_PERFORMERS) == 20
    assert [p for p in range(1, 41)
            if ntu_split(dict(performer=p, camera=1, setup=1), 'xsub') == 'train'] == [
        1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38]
    assert [c for c in (1, 2, 3)
            if ntu_split(dict(performer=3, camera=c, setup=1), 'xview') == 'train'] == [2, 3]
    assert ntu_split(dict(performer=3, camera=1, setup=18), 'xset') == 'train'
    assert ntu_split(dict(performer=3, camera=1, setup=17), 'xset') == 'test'
    with pytest.raises(ValueError, match='unknown NTU benchmark'):
        ntu_split(ids, 'xperson')


def test_ntu25_converter_takes_the_named_kinect_joints():
    conv = build_converter('ntu25')
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1000, (4, 25, 2))
    scores = rng.uniform(0.2, 1.0, (4, 25))
    out, conf = conv(xy, scores)
    assert out.shape == (4, 17, 2) and conf.shape == (4, 17)
    expected = {'pelvis': 'spine_base', 'spine': 'spine_mid', 'thorax': 'spine_shoulder',
                'neck_nose': 'neck', 'head': 'head', 'right_hip': 'right_hip',
                'left_knee': 'left_knee', 'right_ankle': 'right_ankle',
                'left_shoulder': 'left_shoulder', 'right_elbow': 'right_elbow',
                'left_wrist': 'left_wrist', 'right_wrist': 'right_wrist'}
    for h36m, kinect in expected.items():
        j, k = conv.target_joints.index(h36m), NTU25_JOINTS.index(kinect)
        np.testing.assert_allclose(out[:, j], xy[:, k], rtol=1e-6)
        np.testing.assert_allclose(conf[:, j], scores[:, k], rtol=1e-6)
    # hands, tips, thumbs and feet feed nothing
    used = {k for alts in conv.mapping for alt in alts for k in alt}
    assert {NTU25_JOINTS[k] for k in set(range(25)) - used} == {
        'left_hand', 'right_hand', 'left_foot', 'right_foot', 'left_hand_tip', 'left_thumb',
        'right_hand_tip', 'right_thumb'}
    with pytest.raises(ValueError, match='expects 25 joints'):
        conv(xy[:, :17], scores[:, :17])


# ------------------------------------------------------------------------ the dataset
def write_tree(root, rng, frames=12):
    """Files of performers 1 (xsub train) and 3 (test), cameras 1 and 2, actions 1, 2 and 61
    (NTU-120 only), and one listed as missing."""
    folder = root / 'nturgb+d_skeletons'
    folder.mkdir(parents=True)
    names = []
    for p in (1, 3):
        for c in (1, 2):
            for a in (1, 2, 61):
                name = f'S001C{c:03d}P{p:03d}R001A{a:03d}'
                write_skeleton(folder / f'{name}.skeleton',
                               [[('5', make_joints(rng), None)] for _ in range(frames)])
                names.append(name)
    (root / 'missing.txt').write_text('S001C002P003R001A002\n')
    return names


def dataset(root, h36m_info, **kwargs):
    return NTURGBDDataset(data_root=str(root), metainfo=h36m_info,
                          pipeline=[dict(type='NormalizeScreen'),
                                    dict(type='PackActionInputs')], **kwargs)


def test_dataset_splits_classes_and_missing_list(tmp_path, h36m_info):
    write_tree(tmp_path, np.random.default_rng(4))
    train = dataset(tmp_path, h36m_info, split='train', benchmark='xsub', seq_len=8)
    assert sorted(d['video_id'] for d in train.data_list) == [
        'S001C001P001R001A001', 'S001C001P001R001A002', 'S001C002P001R001A001',
        'S001C002P001R001A002']
    assert train.skipped == dict(missing_skeleton=0, other_action=4, other_split=4)
    test = dataset(tmp_path, h36m_info, split='test', benchmark='xview', seq_len=8,
                   missing_list='missing.txt')
    assert sorted(d['video_id'] for d in test.data_list) == [
        'S001C001P001R001A001', 'S001C001P001R001A002', 'S001C001P003R001A001',
        'S001C001P003R001A002']
    ntu120 = dataset(tmp_path, h36m_info, split='train', benchmark='xview', seq_len=8,
                     num_classes=120, missing_list='missing.txt')
    assert len(ntu120) == 5   # camera 2: 2 performers x 3 actions, less the missing one
    assert ntu120.metainfo['classes'][60] == 'A061'
    sample = train[0]
    assert sample['inputs'].shape == (8, 17, 3)
    assert sample['data_samples'].gt_label.item() == 0
    assert sample['data_samples'].metainfo['action'] == 'A001'
    with pytest.raises(FileNotFoundError, match='docs/action_recognition.md'):
        dataset(tmp_path / 'nowhere', h36m_info)
    with pytest.raises(FileNotFoundError, match='missing_list'):
        dataset(tmp_path, h36m_info, missing_list='absent.txt')


def test_clip_body_choice_conversion_and_resampling(tmp_path, h36m_info):
    rng = np.random.default_rng(5)
    folder = tmp_path / 'nturgb+d_skeletons'
    folder.mkdir()
    still = make_joints(rng, spread=0.01)
    moving = [make_joints(rng, shift=(100.0 * t, 0.0)) for t in range(6)]
    tracking = np.full(25, 2)
    tracking[3] = 0   # the head not tracked in every frame
    frames = [[('1', still, None), ('2', moving[t], tracking)] for t in range(6)]
    frames[2] = [('1', still, None)]   # the moving body missing in frame 3
    write_skeleton(folder / 'S001C002P001R001A007.skeleton', frames)
    first = dataset(tmp_path, h36m_info, split='train', seq_len=6, body='first')
    active = dataset(tmp_path, h36m_info, split='train', seq_len=11, body='active')
    conv = build_converter('ntu25')
    clip = first.read_clip(str(folder / 'S001C002P001R001A007.skeleton'))
    kp, _ = conv(np.repeat(still[None, :, 5:7], 6, 0))
    np.testing.assert_allclose(clip['keypoints_2d'], kp, rtol=1e-5)
    assert clip['image_size'] == (1920.0, 1080.0) and (clip['keypoint_scores'] == 1).all()

    clip = active.read_clip(str(folder / 'S001C002P001R001A007.skeleton'))
    assert clip['frame_indices'].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    head = list(h36m_info['joint_names']).index('head')
    scores = clip['keypoint_scores']
    assert (scores[:, head] == 0).all()   # not tracked -> confidence 0
    absent = clip['frame_indices'] == 2   # the moving body is missing: confidence 0 and the
    assert (scores[absent] == 0).all()    # coordinates of the nearest frame with it (frame 2)
    kp1, _ = conv(moving[1][None, :, 5:7])
    np.testing.assert_allclose(clip['keypoints_2d'][absent], np.repeat(kp1, 2, 0), rtol=1e-5)
    assert (scores[~absent][:, [j for j in range(17) if j != head]] == 1).all()
    # the model's input: the project's screen normalisation of the colour image
    sample = active[0]
    x = sample['inputs'].numpy()
    np.testing.assert_allclose(x[..., 0], clip['keypoints_2d'][..., 0] / 1920 * 2 - 1,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x[..., 1], clip['keypoints_2d'][..., 1] / 1920 * 2 - 1080 / 1920,
                               rtol=1e-5, atol=1e-6)
    crop = dataset(tmp_path, h36m_info, split='train', seq_len=4, sampling='crop')
    assert crop.read_clip(str(folder / 'S001C002P001R001A007.skeleton'))[
        'frame_indices'].tolist() == [1, 2, 3, 4]


def test_file_without_bodies_is_named(tmp_path, h36m_info):
    folder = tmp_path / 'nturgb+d_skeletons'
    folder.mkdir()
    write_skeleton(folder / 'S001C002P001R001A007.skeleton', [[], []])
    ds = dataset(tmp_path, h36m_info, split='train', seq_len=4)
    with pytest.raises(ValueError, match='S001C002P001R001A007.skeleton: no body'):
        ds[0]
