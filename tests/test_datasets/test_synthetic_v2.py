"""Tests of the SYNTHETIC generator v2 (the embedded default): bodies, motion prior, real
cameras, 2D noise, the writer and its CLI."""
import os
import pickle
import re

import numpy as np
import pytest

from dualpose.datasets import synthetic
from dualpose.datasets.h36m_cameras import h36m_camera, project_to_pixels, world_to_camera
from dualpose.datasets.synthetic import body as body_mod
from dualpose.datasets.synthetic import motion as motion_mod
from dualpose.datasets.synthetic.noise import detect
from tests.conftest import load_tool, video_blocks

cli = load_tool('tools/dataset_converters/make_synthetic_h36m.py')

SMALL = dict(train_subjects=('S1', 'S5'), test_subjects=('S9',), recordings=1,
             test_recordings=1, frames_per_video=60)
SOURCE_RE = re.compile(r'^s_(\d{2})_act_(\d{2})_subact_(\d{2})_ca_(\d{2})$')


@pytest.fixture(scope='module')
def small():
    return synthetic.generate_synthetic_h36m(seed=0, return_world=True, **SMALL)


def _bones(joints):
    return np.stack([np.linalg.norm(joints[..., c, :] - joints[..., p, :], axis=-1)
                     for p, c in synthetic.LINKS], -1)


def test_layout_is_motionbert(small):
    data, _ = small
    for split in data.values():
        assert list(split)[:8] == ['joint_2d', 'confidence', 'joint3d_image', 'camera_name',
                                   'source', 'action', '2.5d_factor', 'joints_2.5d_image']
        assert 'camera_size' not in split          # real cameras: sizes from the metainfo
        n = len(split['source'])
        for key, shape in (('joint_2d', (n, 17, 2)), ('confidence', (n, 17)),
                           ('joint3d_image', (n, 17, 3)), ('2.5d_factor', (n,))):
            assert split[key].shape == shape and split[key].dtype == np.float32, key
            assert np.isfinite(split[key]).all(), key
        np.testing.assert_array_equal(split['joints_2.5d_image'],
                                      split['joint3d_image'] * split['2.5d_factor'][:, None, None])
        for vid, frames in video_blocks(split['source']):
            assert SOURCE_RE.match(vid), vid
            assert len({id(s) for s in split['source'][frames]}) == 1
            assert len(frames) >= SMALL['frames_per_video']
    assert set(data['train']['action']) == set(synthetic.ACTION_NAMES.values())


def test_deterministic_and_seeded():
    kw = dict(SMALL, families=('kick',), frames_per_video=30)
    a = synthetic.generate_synthetic_h36m(seed=3, **kw)
    b = synthetic.generate_synthetic_h36m(seed=3, **kw)
    c = synthetic.generate_synthetic_h36m(seed=4, **kw)
    for split in ('train', 'test'):
        for key in ('joint_2d', 'confidence', 'joint3d_image', '2.5d_factor'):
            assert a[split][key].tobytes() == b[split][key].tobytes(), key
        assert not np.array_equal(a[split]['joint3d_image'], c[split]['joint3d_image'])


def test_bodies_adult_and_varied(small):
    data, world = small
    heights, first_bones = [], []
    for split in ('train', 'test'):
        xyz = world[split]['joint3d_world']
        for vid, frames in video_blocks(data[split]['source']):
            bones = _bones(xyz[frames])
            assert np.abs(bones - bones[0]).max() < 1e-6, vid    # rigid bones over time
            first_bones.append(bones[0])
    first_bones = np.unique(np.round(first_bones, 3), axis=0)
    assert len(first_bones) >= 10                  # one actor per recording, not per subject
    rng = np.random.default_rng(0)
    for _ in range(200):
        b = body_mod.draw_body(rng)
        heights.append(body_mod.standing_height(b['bones']))
        assert b['bones'][2] == b['bones'][5] and b['bones'][12] == b['bones'][15]
    heights = np.array(heights)
    assert 1450 - 1 <= heights.min() and heights.max() <= 1950 + 1
    assert heights.max() - heights.min() > 350
    short = body_mod.draw_body(np.random.default_rng(1), (1450, 1450))
    assert abs(body_mod.standing_height(short['bones']) - 1450) < 1


def test_real_h36m_cameras(small):
    data, world = small
    d, cam_xyz = data['test'], world['test']['joint3d_camera']
    w3d = world['test']['joint3d_world']
    for vid, frames in video_blocks(d['source'])[:8]:
        cam = h36m_camera('S9', str(d['camera_name'][frames[0]]))
        xyz = world_to_camera(w3d[frames], cam)
        np.testing.assert_allclose(cam_xyz[frames], xyz, atol=1e-6)
        np.testing.assert_allclose(d['joint3d_image'][frames, :, :2],
                                   project_to_pixels(xyz, cam), atol=1e-2)
        np.testing.assert_allclose(d['2.5d_factor'][frames] * np.mean(cam['f']),
                                   xyz[:, 0, 2], rtol=1e-5)
        rel = xyz[..., 2] - xyz[:, :1, 2]
        np.testing.assert_allclose(d['joint3d_image'][frames, :, 2] * d['2.5d_factor'][frames,
                                                                                         None],
                                   rel, atol=0.05)
    uv = d['joint3d_image'][..., :2]
    assert ((uv > 0) & (uv < 1000)).all(-1).mean() > 0.97   # people stay in view


def test_feet_on_the_floor_and_families_differ(small):
    data, world = small
    xyz = world['train']['joint3d_world']
    src, act = data['train']['source'], data['train']['action']
    stats = {}
    for vid, frames in video_blocks(src):
        if not vid.endswith('_ca_01'):
            continue
        p = xyz[frames]
        trunk = p[:, 8] - p[:, 0]
        tilt = np.degrees(np.arccos(trunk[:, 2] / np.linalg.norm(trunk, axis=-1)))
        speed = np.linalg.norm(np.diff(p[:, 0, :2], axis=0), axis=-1).mean() * motion_mod.FPS
        lowest = p[..., 2].min(1)
        assert lowest.min() > -20, vid                  # nothing sinks into the floor
        stats.setdefault(act[frames[0]], []).append((np.median(lowest), tilt.max(), speed,
                                                     p[:, 0, 2].max() - p[:, 0, 2].min()))
    for name, rows in stats.items():
        rows = np.array(rows)
        assert np.median(rows[:, 0]) < 120, name        # something touches the ground
    floor = np.array(stats['Floor'])
    assert floor[:, 1].max() > 60                       # the body leaves upright
    assert np.array(stats['Locomotion'])[:, 2].max() > 500   # mm / s


def test_motion_families_and_kinds():
    rng = np.random.default_rng(5)
    for family, kinds in motion_mod.KINDS.items():
        for kind in kinds:
            m = motion_mod.generate_motion(rng, family, 120, body_mod.draw_body(rng), kind=kind,
                                           transition_prob=0.0)
            assert m['labels'][0].startswith(family.split('_')[0]) and kind in m['labels'][0]
            assert np.isfinite(m['joints']).all()
    # transitions stay within the allowed families
    for _ in range(10):
        m = motion_mod.generate_motion(rng, 'posture', 300, body_mod.draw_body(rng),
                                       allowed=['posture', 'kick'], transition_prob=1.0)
        assert len(m['labels']) >= 2
        assert all(lb.split('/')[0] in ('posture', 'kick') for lb in m['labels'])
    m = motion_mod.generate_motion(rng, 'floor', 200, body_mod.draw_body(rng), kind='flip',
                                   transition_prob=0.0)
    root_z = m['joints'][:, 0, 2]
    assert root_z.max() - np.median(root_z) > 300        # a flip leaves the ground
    with pytest.raises(ValueError, match='unknown family'):
        motion_mod.generate_motion(rng, 'swimming', 50, body_mod.draw_body(rng))
    with pytest.raises(ValueError, match="unknown floor kind 'dive'"):
        motion_mod.generate_motion(rng, 'floor', 50, body_mod.draw_body(rng), kind='dive')


def test_limits_and_interpolation():
    rng = np.random.default_rng(0)
    wild = rng.normal(0, 200, (500, 17, 3))
    limited = motion_mod.apply_limits(wild)
    lo, hi = motion_mod.LIMITS[..., 0], motion_mod.LIMITS[..., 1]
    assert (limited >= lo - 1e-9).all() and (limited <= hi + 1e-9).all()
    for j, lim in motion_mod.SWING_LIMIT.items():
        assert np.linalg.norm(limited[:, j, :2], axis=-1).max() <= lim + 1e-6
    inside = np.clip(wild, lo + 15, hi - 15)
    inside[:, [3, 6, 13, 16]] = np.clip(inside[:, [3, 6, 13, 16]], 20, 120)
    inside[:, [2, 5, 12, 15], :2] *= 0.3
    inner = motion_mod.apply_limits(inside)
    keep = (hi - lo) > 40
    np.testing.assert_allclose(inner[:, keep], inside[:, keep])   # identity away from limits
    t = np.linspace(0, 2, 101)
    k = motion_mod.keyframes(t, [0.5, 1.5], [[0.0], [10.0]])
    assert k[0, 0] == 0 and k[-1, 0] == 10 and abs(k[50, 0] - 5) < 1e-9
    assert (np.diff(k[:, 0]) >= 0).all()
    noise = motion_mod.smooth_noise(rng, 400, (3,), 1.0)
    np.testing.assert_allclose(noise.std(0), 1.0, rtol=1e-6)
    spec = np.abs(np.fft.rfft(noise[:, 0]))
    freq = np.fft.rfftfreq(400, 1 / motion_mod.FPS)
    assert spec[freq > 4].max() < 0.05 * spec.max()                # band-limited


def test_detector_noise():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4 * np.pi, 300)
    uv = np.stack([np.stack([500 + 40 * np.sin(t + j), 300 + 20 * j + 5 * np.cos(t)], -1)
                   for j in range(17)], 1)
    exact, conf = detect(rng, uv, scale=0.0)
    assert np.array_equal(exact, uv) and (conf == 1).all()
    xy, conf = detect(np.random.default_rng(1), uv, scale=1.0, occlusion_rate=0.01,
                      swap_rate=0.05)
    err = np.linalg.norm(xy - uv, axis=-1)
    assert 0.5 < np.median(err) < 10
    missing = conf == 0
    assert missing.any() and (conf[~missing] >= 0.05).all()
    # occluded coordinates are interpolated between the frames around each run
    j = int(np.flatnonzero(missing.any(0))[0])
    run = np.flatnonzero(missing[:, j])
    a, b = run[0] - 1, run[-1] + 1
    runs = [(r[0] - 1, r[-1] + 1) for r in np.split(run, np.flatnonzero(np.diff(run) > 1) + 1)]
    a, b = next((a, b) for a, b in runs if a >= 0 and b < len(uv))
    if b - a > 1:
        mid = (a + b) // 2
        expected = xy[a, j] + (xy[b, j] - xy[a, j]) * (mid - a) / (b - a)
        np.testing.assert_allclose(xy[mid, j], expected, atol=1e-6)
    # left-right swaps: some frames have the left wrist where the right one is
    swapped = np.linalg.norm(xy[:, 13] - uv[:, 16], axis=-1) < \
        np.linalg.norm(xy[:, 13] - uv[:, 13], axis=-1)
    assert swapped.any()


def test_leave_one_family_out_and_unseen_cameras(tmp_path):
    families = [f for f in synthetic.FAMILY_NAMES if f != 'floor']
    data, world = synthetic.generate_synthetic_h36m(
        seed=1, families=families, test_families=['floor'], test_cameras='random',
        return_world=True, **dict(SMALL, frames_per_video=40))
    assert 'Floor' not in set(data['train']['action'])
    assert set(data['test']['action']) == {'Floor'}
    assert not any(lb.startswith('floor') for lbs in world['train']['segments'].values()
                   for lb in lbs)
    assert all(lb.startswith('floor') for lbs in world['test']['segments'].values()
               for lb in lbs)
    test = data['test']
    assert all(str(c).startswith('random_') for c in set(test['camera_name']))
    assert test['camera_size'].shape == (len(test['source']), 2)
    assert len({tuple(s) for s in test['camera_size']}) > 1
    uv = test['joint3d_image'][..., :2]
    inside = (uv >= 0).all(-1) & (uv < test['camera_size'][:, None]).all(-1)
    assert inside.mean() > 0.9
    # the loader takes the image sizes from the file
    path = tmp_path / 'unseen.pkl'
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    from dualpose.datasets import Human36mDataset
    from dualpose.apis import register_all_modules
    from mmengine.config import Config
    register_all_modules()
    info = Config.fromfile('configs/_base_/datasets/h36m.py').dataset_info
    ds = Human36mDataset(ann_file=str(path), split='test', seq_len=27, metainfo=dict(info),
                         pipeline=[], test_mode=True)
    sample = ds[0]
    assert tuple(sample['image_size']) == tuple(float(v) for v in test['camera_size'][0])


@pytest.mark.parametrize('kwargs,match', [
    (dict(recordings=-1), 'recordings must be an integer >= 1'),
    (dict(frames_per_video=0), 'frames_per_video must be an integer >= 1'),
    (dict(families=['walking']), r"families=\['walking'\]: unknown"),
    (dict(test_families=['x']), 'test_families'),
    (dict(camera_augmentation=dict(views=1, distance=(8000, 3000))), 'distance.*inverted'),
    (dict(camera_augmentation=dict(views=1, zoom=(1, 2))), "option 'zoom' is unknown"),
    (dict(height_range=(900, 1800)), r'height_range=\(900.0, 1800.0\) must satisfy 1000.0'),
    (dict(height_range=(1900, 1500)), 'height_range'),
    (dict(test_cameras='fisheye'), "test_cameras must be 'h36m' or 'random'"),
    (dict(train_subjects=('S9',)), 'overlap'),
])
def test_bad_options_name_the_option(kwargs, match):
    with pytest.raises(ValueError, match=match):
        synthetic.generate_synthetic_h36m(**dict(SMALL, **kwargs))


def test_writer_atomic_and_cli(tmp_path, monkeypatch, capsys):
    out = tmp_path / 'a' / 'h36m.pkl'
    kw = dict(SMALL, families=('jump', 'kick'), frames_per_video=30)
    summary = synthetic.write_synthetic_h36m(str(out), seed=2, **kw)
    assert os.listdir(out.parent) == ['h36m.pkl'] and summary['generator'] == 'v2'
    with open(out, 'rb') as f:
        data = pickle.load(f)
    ref = synthetic.generate_synthetic_h36m(seed=2, **kw)
    assert np.array_equal(data['train']['joint_2d'], ref['train']['joint_2d'])
    # a failed generation leaves no partial file (and keeps an existing one)
    before = out.read_bytes()

    def broken(*args, **kwargs):
        raise OSError('disk full (simulated)')
    monkeypatch.setattr(pickle, 'dump', broken)
    with pytest.raises(OSError, match='disk full'):
        synthetic.write_synthetic_h36m(str(out), seed=3, **kw)
    assert os.listdir(out.parent) == ['h36m.pkl'] and out.read_bytes() == before
    monkeypatch.undo()
    cli_out = tmp_path / 'cli' / 'x.pkl'
    args = ['--out', str(cli_out), '--frames-per-video', '30', '--recordings', '1',
            '--test-recordings', '1', '--families', 'floor', 'posture', '--test-families',
            'locomotion']
    assert cli.main(args) == 0
    with open(cli_out, 'rb') as f:
        data = pickle.load(f)
    assert set(data['train']['action']) == {'Floor', 'Posture'}
    assert set(data['test']['action']) == {'Locomotion'}
    bad = tmp_path / 'bad' / 'y.pkl'
    assert cli.main(['--out', str(bad), '--families', 'swimming']) == 2
    assert 'valid families are' in capsys.readouterr().err and not bad.exists()
    assert cli.main(['--generator', 'v1', '--out', str(bad), '--families', 'floor']) == 2
