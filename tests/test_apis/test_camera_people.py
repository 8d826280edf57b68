"""Metric camera-space output, every person of a file, BVH export, the HTML viewer, smoothing
(issue 17): real computations on tiny models and data."""
import json
import os
import os.path as osp
import shutil
import subprocess

import numpy as np
import pytest
import torch

from tests.conftest import H36M_FLIP_PAIRS, H36M_LINKS, REPO_ROOT, load_tool

TRAJ_CONFIG = osp.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny-traj_synthetic-27f.py')
TWO = osp.join(REPO_ROOT, 'demo/samples/synthetic_two_people_coco17.json')
H36M_CAM = (1145.0494384765625, 1143.7811279296875, 512.54150390625, 515.4514770507812)


def _motion(frames=40, seed=0, shift=(0.0, 0.0)):
    """(T, 17, 3) camera-space mm and (T, 17, 2) pinhole pixels of a synthetic actor seen
    by S9's camera 54138969 (no distortion)."""
    from dualpose.datasets.synthetic import draw_body, generate_motion, h36m_rig
    from dualpose.datasets.synthetic.cameras import world_to_camera
    rng = np.random.default_rng(seed)
    world = generate_motion(rng, 'locomotion', frames, draw_body(rng), kind='walk',
                            transition_prob=0.0)['joints'] + np.array([*shift, 0.0])
    cam = h36m_rig('S9')[0]
    xyz = world_to_camera(world, cam)
    uv = xyz[..., :2] / xyz[..., 2:] * cam['f'] + cam['c']
    return xyz, uv


@pytest.fixture(scope='module')
def traj_model(tmp_path_factory):
    """A tiny lifter with a trajectory head (untrained, seeded) and its checkpoint."""
    from dualpose.apis import init_model
    folder = tmp_path_factory.mktemp('traj_model')
    config = folder / 'tiny_traj.py'
    config.write_text(
        f'_base_ = [{TRAJ_CONFIG!r}]\n'
        'model = dict(backbone=dict(arch=dict(embed_dims=16, depth=1), init_cfg=None),\n'
        '             head=dict(in_channels=16, hidden_dims=32, init_cfg=None),\n'
        '             traj_head=dict(hidden_dims=16))\n'
        'test_dataloader = dict(dataset=dict(seq_len=9))\n')
    torch.manual_seed(0)
    model = init_model(str(config))
    ckpt = folder / 'tiny_traj.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return str(config), str(ckpt), model


# ------------------------------------------------------------------------------ camera model
def test_back_projection_is_perspective_correct_where_one_factor_is_not():
    from dualpose.codecs import (camera_space_pose, normalized_to_mm, relative_from_camera,
                                 root_from_trajectory, trajectory_from_root)
    xyz, _ = _motion(10, shift=(1500.0, 0.0))     # off the optical axis
    size, k = np.array([1000.0, 1002.0]), np.array(H36M_CAM)
    rel = relative_from_camera(xyz, size, k)
    back = camera_space_pose(rel, xyz[:, 0], size, k)
    np.testing.assert_allclose(back, xyz, atol=1e-6)                   # exact, every joint
    flat = normalized_to_mm(rel, 1000.0, xyz[:, 0, 2] / np.mean(k[:2])) + xyz[:, :1]
    assert np.linalg.norm(flat - xyz, axis=-1).mean() > 3.0           # one factor: mm off
    root2d = np.random.default_rng(0).normal(0, 0.2, (10, 2))
    traj = trajectory_from_root(xyz[:, 0], root2d, size, k)
    np.testing.assert_allclose(root_from_trajectory(traj, root2d, size, k), xyz[:, 0],
                               atol=1e-6)
    # torch, batched with per-sample cameras, as the head's loss uses it
    t = root_from_trajectory(torch.from_numpy(traj)[None], torch.from_numpy(root2d)[None],
                             torch.tensor(size)[None, None], torch.tensor(k)[None, None])
    np.testing.assert_allclose(t[0].numpy(), xyz[:, 0], atol=1e-6)


@pytest.mark.parametrize('camera, message', [
    (dict(focal=(0, 1000)), 'focal fx=0.0 pixels cannot be right'),
    (dict(focal=(1000, -5)), 'focal fy=-5.0 pixels cannot be right'),
    (dict(focal=1000, principal=(1200, 500)), 'principal cx=1200.0 pixels lies outside the '
                                               '1000 x 1002 image'),
    (dict(focal=1000, principal=(500, float('nan'))), 'principal cy=nan'),
    ((1000, 1000, 500), 'expected (fx, fy, cx, cy)'),
    (dict(f=3), 'expected dict(focal=(fx, fy)'),
])
def test_intrinsics_that_cannot_be_right_are_refused_naming_the_value(camera, message):
    from dualpose.codecs import make_camera
    with pytest.raises(ValueError, match=__import__('re').escape(message)):
        make_camera(camera, (1000, 1002))


def test_default_camera_is_documented_and_said():
    from dualpose.codecs import DEFAULT_CAMERA_RULE, make_camera
    cam = make_camera(None, (1920, 1080))
    assert (cam.fx, cam.fy, cam.cx, cam.cy) == (1920, 1920, 960, 540) and cam.is_default
    assert DEFAULT_CAMERA_RULE in cam.source and 'DEFAULT, not given' in cam.describe()
    given = make_camera(dict(focal=(1500, 1500), principal=(900, 500)), (1920, 1080))
    assert given.source == 'given' and given.cx == 900


def test_flip_of_camera_space_ground_truth_matches_the_mirrored_image():
    from dualpose.codecs import flip_camera_intrinsics, flip_pose, project_points
    xyz, uv = _motion(5)
    k = np.array(H36M_CAM)
    flipped = flip_pose(xyz, [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13])
    px = project_points(flipped, flip_camera_intrinsics(k, 1000.0))
    mirrored = np.stack([1000.0 - uv[..., 0], uv[..., 1]], -1)[:, [0, 4, 5, 6, 1, 2, 3, 7, 8,
                                                                    9, 10, 14, 15, 16, 11, 12,
                                                                    13]]
    np.testing.assert_allclose(px, mirrored, atol=1e-6)


# ------------------------------------------------------------------------------ trajectory head
def test_trajectory_head_trains_on_the_frozen_lifter(tiny_h36m_file):
    """Frozen backbone and pose head keep their weights (and eval mode); the head's loss, the
    inverse-depth weighted root error, falls on a fixed batch."""
    from mmengine.dataset import pseudo_collate

    from dualpose.registry import DATASETS, MODELS
    from dualpose.utils.config import read_config
    cfg = read_config(TRAJ_CONFIG, dict(seq_len=9))
    cfg.model.backbone.arch.update(embed_dims=16, depth=1)
    cfg.model.backbone.init_cfg = None
    cfg.model.head.update(in_channels=16, hidden_dims=32, init_cfg=None)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    data = cfg.train_dataloader.dataset
    data.update(data_root=osp.dirname(tiny_h36m_file), holdout=None)
    ds = DATASETS.build(data)
    batch = model.data_preprocessor(pseudo_collate([ds[i] for i in range(8)]), True)
    frozen = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith('traj')}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-3)
    model.train()
    assert not model.backbone.training and model.traj_head.training
    losses = []
    for _ in range(30):
        loss = model(**batch, mode='loss')
        assert list(loss) == ['loss_traj']
        opt.zero_grad()
        loss['loss_traj'].backward()
        opt.step()
        losses.append(float(loss['loss_traj'].detach()))
    assert min(losses[-5:]) < 0.8 * losses[0], losses
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in frozen.items())
    model.eval()
    out = model(**batch, mode='predict')
    assert out[0].pred_root_camera.shape == (9, 3)
    from dualpose.evaluation.metrics import CameraSpaceMetric
    metric = CameraSpaceMetric()
    metric.process(None, [o.to_dict() for o in out])
    result = metric.compute_metrics(metric.results)
    assert result['root_error'] > 0 and 0 < result['root_depth_error_pct'] < 100


def test_camera_space_metric_is_zero_for_the_truth():
    from dualpose.codecs import relative_from_camera
    from dualpose.evaluation.metrics import CameraSpaceMetric
    xyz, _ = _motion(12, shift=(800.0, 300.0))
    size, k = (1000.0, 1002.0), np.array(H36M_CAM)
    rel = relative_from_camera(xyz, np.array(size), k)
    sample = dict(video_id='v', action='Walk', frame_indices=np.arange(12), image_size=size,
                  camera_intrinsics=k, pred=rel, pred_root_camera=xyz[:, 0], gt_camera=xyz)
    metric = CameraSpaceMetric()
    metric.process(None, [sample])
    out = metric.compute_metrics(metric.results)
    assert out['root_error'] < 1e-3 and out['mpjpe_camera'] < 1e-3
    with pytest.raises(ValueError, match='needs a model with a trajectory head'):
        metric.process(None, [{k2: v for k2, v in sample.items() if k2 != 'pred_root_camera'}])


def test_dataset_with_camera_needs_the_camera_space_ground_truth(tmp_path, h36m_info):
    import pickle

    from dualpose.datasets import Human36mDataset
    from dualpose.datasets.synthetic import generate_synthetic_h36m
    data = generate_synthetic_h36m(train_subjects=('S1', ), test_subjects=('S9', ),
                                   families=('locomotion', ), recordings=1, test_recordings=1,
                                   frames_per_video=20)
    for split in data.values():
        del split['joint3d_camera'], split['camera_intrinsics']
    path = tmp_path / 'old.pkl'
    path.write_bytes(pickle.dumps(data))
    with pytest.raises(KeyError, match="lacks 'joint3d_camera'.*--force"):
        Human36mDataset(str(path), split='test', seq_len=9, metainfo=h36m_info,
                        with_camera=True)


def test_generator_keeps_the_arrays_it_wrote_before():
    """The camera keys come after the old ones, which are unchanged: regenerating gives the
    same arrays (md5 per array) as a generator without them would."""
    from dualpose.datasets.synthetic import generate_synthetic_h36m
    from dualpose.datasets.synthetic.writer import CAMERA_KEYS, KEYS
    data = generate_synthetic_h36m(train_subjects=('S1', ), test_subjects=('S9', ),
                                   families=('locomotion', ), recordings=1, test_recordings=1,
                                   frames_per_video=20)
    test = data['test']
    assert list(test)[:len(KEYS)] == list(KEYS) and list(test)[-2:] == list(CAMERA_KEYS)
    # joint3d_image is the projection of joint3d_camera with the factor's depth scale
    factor = test['2.5d_factor']
    dz = (test['joint3d_camera'][..., 2] - test['joint3d_camera'][:, :1, 2]) / factor[:, None]
    np.testing.assert_allclose(test['joint3d_image'][..., 2], dz, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(factor * test['camera_intrinsics'][:, :2].mean(1),
                               test['joint3d_camera'][:, 0, 2], rtol=1e-5)


# ------------------------------------------------------------------------------ people
def _write_two_people(tmp_path, fmt):
    a, ua = _motion(30, 1)
    b, ub = _motion(30, 2, shift=(-1200.0, 800.0))
    people = []
    for f in range(30):
        for idx, uv in ((5, ua), (9, ub)):
            if idx == 9 and (f < 6 or 15 <= f < 18):     # enters late, missed 3 frames
                continue
            flat = np.concatenate([uv[f], np.full((17, 1), 0.9)], 1).reshape(-1).tolist()
            people.append((f, idx, uv[f], flat))
    path = tmp_path / f'two.{fmt}'
    if fmt == 'alphapose':
        path = tmp_path / 'alphapose-results.json'
        path.write_text(json.dumps([dict(image_id=f'{f}.jpg', keypoints=k, score=0.9,
                                         idx=i, box=[0, 0, 1, 1]) for f, i, _, k in people]))
    elif fmt == 'mmpose':
        frames = [dict(frame_id=f, instances=[dict(keypoints=uv.tolist(),
                                                   keypoint_scores=[0.9] * 17, track_id=i)
                                              for g, i, uv, _ in people if g == f])
                  for f in range(30)]
        path.write_text(json.dumps(dict(meta_info=dict(dataset_name='h36m'),
                                        instance_info=frames)))
    elif fmt == 'coco':   # no track ids: the tracker
        path.write_text(json.dumps([dict(image_id=f, category_id=1, keypoints=k, score=0.9)
                                    for f, _, _, k in people]))
    return path


@pytest.mark.parametrize('fmt, ids', [('alphapose', [5, 9]), ('mmpose', [5, 9]),
                                      ('coco', [0, 1])])
def test_every_person_read_with_file_ids_or_tracked(tmp_path, fmt, ids):
    from dualpose.keypoints import read_people
    people = read_people(str(_write_two_people(tmp_path, fmt)))
    assert people.track_ids.tolist() == ids and people.keypoints.shape == (2, 30, 17, 2)
    assert people.present[0].all()
    assert people.present[1].tolist() == [f >= 6 and not 15 <= f < 18 for f in range(30)]
    assert ('tracker' in people.tracked_by) == (fmt == 'coco')    # the gap bridged: 2 ids
    one = read_people(str(_write_two_people(tmp_path, fmt)), track_id=ids[1])
    assert one.track_ids.tolist() == [ids[1]] and not one.present[0, :6].any()
    with pytest.raises(ValueError, match='track id 77 not found'):
        read_people(str(_write_two_people(tmp_path, fmt)), track_id=77)


def test_tracker_oks_and_iou_follow_two_people_and_bridge_a_gap():
    from dualpose.keypoints import track_detections
    _, ua = _motion(20, 1)
    _, ub = _motion(20, 2, shift=(-1500.0, 0.0))
    ones = np.ones(17)
    frames = [[(ub[f], ones), (ua[f], ones)] if f % 2 else [(ua[f], ones), (ub[f], ones)]
              for f in range(20)]
    frames[8] = [(ua[8], ones)]                    # b missed in frame 8
    for method in ('oks', 'iou'):
        ids = track_detections(frames, method=method, max_gap=2)
        first = {0: 'a', 1: 'b'}
        for f, row in enumerate(ids):
            names = ['a', 'b'] if f % 2 == 0 else ['b', 'a']
            if f == 8:
                names = ['a']
            assert [first[i] for i in row] == names, (method, f, row)
    assert track_detections([[(ua[0], ones)], [], [], [(ua[3], ones)]], max_gap=1) == \
        [[0], [], [], [1]]                          # a gap longer than max_gap: a new id


def test_npz_of_several_people_and_a_file_with_nobody(tmp_path):
    from dualpose.keypoints import read_people
    _, ua = _motion(12, 1)
    _, ub = _motion(12, 2, shift=(-1200.0, 0.0))
    k = np.stack([ua, ub])
    k[1, :4] = np.nan                                 # absent: NaN without scores
    np.savez(tmp_path / 'p.npz', keypoints=k, track_ids=np.array([3, 8]),
             image_size=np.array([1000, 1002]), joint_set='h36m')
    people = read_people(str(tmp_path / 'p.npz'))
    assert people.track_ids.tolist() == [3, 8] and people.image_size == (1000.0, 1002.0)
    assert people.present[1].tolist() == [False] * 4 + [True] * 8
    np.savez(tmp_path / 'bad.npz', keypoints=k, track_ids=np.array([3]))
    with pytest.raises(ValueError, match='"track_ids" must be 2 integers'):
        read_people(str(tmp_path / 'bad.npz'))
    np.savez(tmp_path / 'none.npz', keypoints=np.full((2, 5, 17, 2), np.nan))
    with pytest.raises(ValueError, match='no person with a detected joint'):
        read_people(str(tmp_path / 'none.npz'))
    (tmp_path / 'empty.json').write_text(json.dumps(
        dict(instance_info=[dict(frame_id=0, instances=[])])))
    with pytest.raises(ValueError, match='no person with keypoints'):
        read_people(str(tmp_path / 'empty.json'))


def test_people_lifted_in_one_batch_equal_each_lifted_alone(traj_model):
    from dualpose.apis import inference_lifting, inference_people
    _, _, model = traj_model
    _, ua = _motion(30, 1)
    _, ub = _motion(30, 2, shift=(-1200.0, 800.0))
    kpts = np.stack([ua, ub, ub + 5])
    conf = np.ones(kpts.shape[:3])
    conf[1, :10] = 0                          # enters at frame 10
    conf[1, 20:22] = 0                        # missed twice
    conf[2, :28] = 0                          # 2 frames only
    res = inference_people(model, kpts, (1000, 1002), conf, track_ids=[4, 6, 7],
                           min_track_frames=3, camera=dict(focal=H36M_CAM[:2],
                                                           principal=H36M_CAM[2:]))
    assert res.status == ['lifted', 'lifted', 'skipped'] and 'fewer than' in res.notes[2]
    assert res.keypoints_3d_camera.shape == (3, 30, 17, 3)
    assert np.isnan(res.keypoints_3d_camera[1, :10]).all()
    assert np.isnan(res.keypoints_3d_camera[1, 20:22]).all()
    assert np.isfinite(res.keypoints_3d_camera[1, 10:20]).all()
    assert np.isnan(res.keypoints_3d_camera[2]).all()
    alone = inference_lifting(model, ua, (1000, 1002), camera=H36M_CAM)
    np.testing.assert_allclose(res.keypoints_3d_camera[0], alone.keypoints_3d_camera,
                               rtol=1e-4, atol=1e-2)
    span = inference_lifting(model, ub[10:], (1000, 1002), conf[1, 10:], camera=H36M_CAM)
    ok = conf[1, 10:].max(-1) > 0
    np.testing.assert_allclose(res.root_camera[1, 10:][ok], span.root_camera[ok], rtol=1e-4,
                               atol=1e-2)
    mm = res.keypoints_3d_mm()
    assert np.allclose(mm[0][:, 0], 0)
    short = inference_people(model, kpts[:1, :5], (1000, 1002))
    assert short.status == ['padded'] and '9-frame window' in short.notes[0]
    assert short.camera.is_default
    with pytest.raises(ValueError, match='no person to lift'):
        inference_people(model, kpts, (1000, 1002), np.zeros(kpts.shape[:3]))


def test_smoothing_lowers_jitter_and_keeps_gaps():
    from dualpose.apis import OneEuroSmoothing
    from dualpose.evaluation.functional import accel_error, mpjve
    xyz, _ = _motion(100)
    noisy = xyz + np.random.default_rng(0).normal(0, 15, xyz.shape)
    noisy[40:45] = np.nan
    smooth = OneEuroSmoothing(min_cutoff=1.0, beta=0.5)(noisy, 50)
    assert np.isnan(smooth[40:45]).all() and np.isfinite(smooth[:40]).all()
    t = lambda a: torch.from_numpy(a[:40])
    assert accel_error(t(smooth), t(xyz)).mean() < 0.5 * accel_error(t(noisy), t(xyz)).mean()
    assert mpjve(t(smooth), t(xyz)).mean() < mpjve(t(noisy), t(xyz)).mean()
    with pytest.raises(ValueError, match='fps must be > 0'):
        OneEuroSmoothing()(xyz, 0)


# ------------------------------------------------------------------------------ BVH
def _fk_from_file(path):
    """Positions from a BVH file by an independent reading: each rotation channel is an
    elemental rotation in the order the file lists them (R = R1 R2 R3), Y up, metres."""
    text = open(path).read().split('MOTION')
    joints, stack, parent = [], [], None
    for line in text[0].splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] in ('ROOT', 'JOINT'):
            joints.append(dict(parent=stack[-1] if stack else -1))
        elif w[0] == 'End':
            joints.append(dict(parent=stack[-1], end=True))
        elif w[0] == '{':
            stack.append(len(joints) - 1)
        elif w[0] == '}':
            stack.pop()
        elif w[0] == 'OFFSET':
            joints[-1]['offset'] = np.array([float(v) for v in w[1:4]])
        elif w[0] == 'CHANNELS':
            joints[-1]['channels'] = w[2:]
    rows = np.array([[float(v) for v in ln.split()] for ln in text[1].splitlines()[3:]
                     if ln.strip()])

    def rot(axis, deg):
        c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
        return {'X': np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
                'Y': np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
                'Z': np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]
    out = []
    for row in rows:
        col, glob, pos = 0, [], []
        for j in joints:
            r, t = np.eye(3), np.zeros(3)
            for ch in j.get('channels', []):
                if ch.endswith('position'):
                    t['XYZ'.index(ch[0])] = row[col]
                else:
                    r = r @ rot(ch[0], row[col])
                col += 1
            if j['parent'] < 0:
                pos.append(j['offset'] + t)
                glob.append(r)
            else:
                pos.append(pos[j['parent']] + glob[j['parent']] @ j['offset'])
                glob.append(glob[j['parent']] @ r)
        out.append([p for p, j in zip(pos, joints) if not j.get('end')])
    return np.array(out) * np.array([1, -1, -1]) * 1000.0     # camera frame, mm


def test_bvh_round_trip_within_a_few_mm(tmp_path):
    from dualpose.apis.bvh import fit_skeleton, read_bvh, bvh_positions, write_bvh
    xyz, _ = _motion(40, shift=(300.0, 200.0))
    skeleton = fit_skeleton(xyz, H36M_LINKS, 0)
    lengths = [np.linalg.norm(xyz[:, b] - xyz[:, a], axis=-1) for a, b in H36M_LINKS]
    path = tmp_path / 'person.bvh'
    write_bvh(str(path), skeleton, [f'joint_{j}' for j in range(17)], fps=50)
    back = _fk_from_file(str(path))                   # the file, read independently
    err = np.linalg.norm(back - xyz, axis=-1)
    assert err.mean() < 8.0 and err[:, 0].max() < 0.01, (err.mean(), err.max())
    fitted = bvh_positions(read_bvh(str(path)))
    np.testing.assert_allclose(fitted, back, atol=0.01)
    for (a, b), length in zip(H36M_LINKS, lengths):    # fixed bone lengths, the median
        got = np.linalg.norm(back[:, b] - back[:, a], axis=-1)
        np.testing.assert_allclose(got, np.median(length), rtol=1e-4)
    text = path.read_text()
    assert text.startswith('HIERARCHY\nROOT joint_0') and 'Frame Time: 0.02000000' in text


def test_bvh_is_exact_for_a_rigid_skeleton(tmp_path):
    """Positions a fixed skeleton can take (one rotation per joint) come back exactly."""
    from dualpose.apis.bvh import fit_skeleton, write_bvh
    rng = np.random.default_rng(1)
    xyz, _ = _motion(1)
    rest = xyz[0] - xyz[0, 0]
    parents = {b: a for a, b in H36M_LINKS}
    frames = []
    for _ in range(6):
        q = np.linalg.qr(rng.normal(size=(17, 3, 3)))[0]
        q *= np.sign(np.linalg.det(q))[:, None, None]
        glob, pos = {0: q[0]}, {0: rng.normal(0, 500, 3) + [0, 0, 5000]}
        for j in range(1, 17):
            p = parents[j]
            glob[j] = glob[p] @ q[j] if j not in (1, 4, 7, 11, 14) else glob[p]
            pos[j] = pos[p] + glob[p] @ (rest[j] - rest[p])
        frames.append([pos[j] for j in range(17)])
    frames = np.array(frames)
    path = tmp_path / 'rigid.bvh'
    write_bvh(str(path), fit_skeleton(frames, H36M_LINKS, 0), [str(j) for j in range(17)], 30)
    assert np.abs(_fk_from_file(str(path)) - frames).max() < 0.05


# ------------------------------------------------------------------------------ viewer
def test_viewer_is_one_self_contained_file():
    from dualpose.visualization import viewer_html
    xyz, uv = _motion(8)
    html = viewer_html(xyz[None], uv[None], H36M_LINKS, H36M_FLIP_PAIRS, [3], (1000, 1002))
    assert html.startswith('<!DOCTYPE html>') and '<script src' not in html
    assert 'http://' not in html and 'https://' not in html and '@import' not in html
    with pytest.raises(ValueError, match=r'points_3d \(P, T, J, 3\)'):
        viewer_html(xyz, uv, H36M_LINKS)


CHROMIUM = shutil.which('chromium') or ('/usr/bin/chromium' if osp.exists('/usr/bin/chromium')
                                        else None)


@pytest.mark.skipif(CHROMIUM is None, reason='Chromium is not installed (apt-get install '
                                              'chromium): the viewer is not opened')
def test_viewer_in_headless_chromium_draws_each_time_without_errors(tmp_path):
    """As a user would: open the page from disk, screenshots at two times; the skeletons
    drawn differ and the console shows nothing (no error, no warning)."""
    from PIL import Image

    from dualpose.visualization import viewer_html
    a, ua = _motion(40, 1)
    b, ub = _motion(40, 2, shift=(-1200.0, 800.0))
    a[:5] = np.nan
    ua[:5] = np.nan
    page = tmp_path / 'viewer.html'
    page.write_text(viewer_html(np.stack([a, b]), np.stack([ua, ub]), H36M_LINKS,
                                H36M_FLIP_PAIRS, [0, 1], (1000, 1002), 50, 'test'))
    shots = []
    env = dict(os.environ, HOME=str(tmp_path))
    base = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
            f'--user-data-dir={tmp_path / "profile"}', '--window-size=1180,560',
            '--enable-logging=stderr', '--v=0']
    for frame in (2, 30):
        png = tmp_path / f'frame{frame}.png'
        res = subprocess.run(base + [f'--screenshot={png}', f'file://{page}#frame={frame}'],
                             capture_output=True, text=True, timeout=120, env=env)
        assert png.exists(), res.stderr[-2000:]
        console = [ln for ln in res.stderr.splitlines() if ':CONSOLE' in ln]
        assert not console, console
        shots.append(np.asarray(Image.open(png).convert('RGB'), dtype=np.int16))
        dom = subprocess.run(base + ['--dump-dom', f'file://{page}#frame={frame}'],
                             capture_output=True, text=True, timeout=120, env=env).stdout
        assert f'data-status="drawn frame {frame}"' in dom, dom[:300]
    diff = np.abs(shots[0] - shots[1]).sum(-1) > 30
    assert diff[:, :650].sum() > 500          # the 3D panel changed: the people moved
    assert (np.abs(shots[0] - 250) > 40).any(-1)[:, :650].sum() > 500   # something drawn


# ------------------------------------------------------------------------------ demo
@pytest.fixture(scope='module')
def demo():
    return load_tool('demo/lift_keypoints.py')


def test_demo_two_people_with_intrinsics(demo, traj_model, tmp_path, capsys):
    config, ckpt, _ = traj_model
    out = tmp_path / 'out'
    rc = demo.main([TWO, '--config', config, '--checkpoint', ckpt, '--out-dir', str(out),
                    '--fps', '50', '--focal', '1145.05', '1143.78', '--principal', '512.54',
                    '515.45', '--no-anim', '--no-progress'])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    stem = 'synthetic_two_people_coco17'
    assert sorted(os.listdir(out)) == sorted([
        f'{stem}_3d.npz', f'{stem}_3d.json', f'{stem}_frames.png', f'{stem}_track0.bvh',
        f'{stem}_track1.bvh', f'{stem}_viewer.html'])
    assert '(given)' in captured.out and 'track 1: lifted, frames 50..199' in captured.out
    with np.load(out / f'{stem}_3d.npz') as npz:
        assert npz['track_ids'].tolist() == [0, 1]
        cam = npz['keypoints_3d_camera']
        assert cam.shape == (2, 200, 17, 3) and npz['root_camera'].shape == (2, 200, 3)
        assert np.isnan(cam[1, :50]).all() and np.isnan(cam[1, 100:105]).all()
        assert np.isfinite(cam[0]).all() and (cam[0, ..., 2] > 0).all()
        units = json.loads(str(npz['units']))
        assert units['keypoints_3d_camera'].startswith('mm, camera frame')
        np.testing.assert_allclose(npz['camera_intrinsics'], [1145.05, 1143.78, 512.54,
                                                              515.45])
        mm = npz['keypoints_3d_mm']
    record = json.loads((out / f'{stem}_3d.json').read_text())
    assert record['camera']['source'] == 'given' and record['track_ids'] == [0, 1]
    assert record['keypoints_3d_camera'][1][0][0] == [None, None, None]
    np.testing.assert_allclose(np.array(record['keypoints_3d_mm'][0], dtype=float), mm[0],
                               atol=0.01)
    rc = demo.main([TWO, '--config', config, '--checkpoint', ckpt, '--out-dir',
                    str(tmp_path / 'one'), '--track-id', '1', '--no-anim', '--no-progress',
                    '--no-bvh', '--no-viewer'])
    assert rc == 0
    with np.load(tmp_path / 'one' / f'{stem}_3d.npz') as npz:
        assert npz['track_ids'].tolist() == [1] and 'max(w, h)' in str(npz['camera_source'])


@pytest.mark.parametrize('extra, message', [
    (['--focal', '0', '1000'], '--focal fx=0.0 pixels cannot be right'),
    (['--focal', '1000', '1000', '--principal', '-3', '500'], '--principal cx=-3.0 pixels'),
    (['--track-id', '5'], 'track id 5 not found'),
    (['--min-track-frames', '500'], 'no person lifted'),
])
def test_demo_bad_camera_or_track_writes_nothing(demo, traj_model, tmp_path, capsys, extra,
                                                 message):
    config, ckpt, _ = traj_model
    out = tmp_path / 'out'
    rc = demo.main([TWO, '--config', config, '--checkpoint', ckpt, '--out-dir', str(out),
                    '--no-anim', '--no-progress'] + extra)
    err = capsys.readouterr().err
    assert rc == 1 and message in err, err
    assert not osp.isdir(out) or os.listdir(out) == []


def test_shipped_two_person_sample_is_what_the_generator_writes():
    maker = load_tool('demo/make_sample_keypoints.py')
    with open(TWO) as f:
        shipped = json.load(f)
    assert shipped['annotations'] == json.loads(json.dumps(
        maker.build_two_people_file(200)['annotations']))


def test_shipped_trajectory_checkpoint_loads_and_keeps_the_demo_poses():
    from dualpose.apis import init_model
    path = osp.join(REPO_ROOT, 'demo/checkpoints/dualpose-tiny-traj_synthetic-27f.pth')
    assert osp.getsize(path) < 4 * 2 ** 20
    model = init_model(TRAJ_CONFIG, path)
    base = torch.load(osp.join(REPO_ROOT, 'demo/checkpoints/dualpose-tiny_synthetic-27f.pth'),
                      weights_only=False)['state_dict']
    own = model.state_dict()
    assert all(torch.equal(own[k], v) for k, v in base.items())     # the same lifter
