"""Tests of the SYNTHETIC generator v1 (seven scripted actions; kept for one release) and its
CLI switch ``--generator v1``."""
import os
import os.path as osp
import pickle
import re

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from dualpose.datasets.synthetic import legacy as synthetic  # noqa: E402
from dualpose.datasets.synthetic import write_synthetic_h36m  # noqa: E402
from tests.conftest import load_tool, video_blocks  # noqa: E402

cli = load_tool('tools/dataset_converters/make_synthetic_h36m.py')

SMALL = dict(train_subjects=('S1', 'S5'), test_subjects=('S9',),
             actions=('Walking', 'SittingDown', 'Waving'), subactions=1, frames_per_video=30)
FLOAT_KEYS = {'joint_2d': 2, 'confidence': None, 'joint3d_image': 3, '2.5d_factor': 'n',
              'joints_2.5d_image': 3}
OBJ_KEYS = ('camera_name', 'source', 'action')
SOURCE_RE = re.compile(r'^s_(\d{2})_act_(\d{2})_subact_(\d{2})_ca_(\d{2})$')


@pytest.fixture(scope='module')
def small():
    return synthetic.generate_synthetic_h36m(seed=0, return_world=True, **SMALL)


def test_keys_shapes_dtypes(small):
    data, _ = small
    assert set(data) == {'train', 'test'}
    for split in data.values():
        assert set(split) == set(FLOAT_KEYS) | set(OBJ_KEYS)
        n = len(split['source'])
        assert n > 0
        assert split['joint_2d'].shape == (n, 17, 2)
        assert split['confidence'].shape == (n, 17)
        assert split['joint3d_image'].shape == (n, 17, 3)
        assert split['joints_2.5d_image'].shape == (n, 17, 3)
        assert split['2.5d_factor'].shape == (n,)
        for key in FLOAT_KEYS:
            assert split[key].dtype == np.float32, key
            assert np.isfinite(split[key]).all(), key
        for key in OBJ_KEYS:
            assert split[key].dtype == object and split[key].shape == (n,)
            assert all(isinstance(v, str) for v in split[key])
        conf = split['confidence']
        assert conf.min() > 0 and conf.max() <= 1
        assert (split['2.5d_factor'] > 0).all()


def test_videos_contiguous_and_named(small):
    data, _ = small
    n_cams = len(synthetic.DEFAULT_CAMERAS)
    cam_names = [c['name'] for c in synthetic.DEFAULT_CAMERAS]
    for split_name, split in data.items():
        vids = video_blocks(split['source'])
        ids = [v for v, _ in vids]
        # each id forms one contiguous block
        assert len(ids) == len(set(ids))
        n_subj = len(SMALL['train_subjects' if split_name == 'train' else 'test_subjects'])
        assert len(ids) == n_subj * len(SMALL['actions']) * SMALL['subactions'] * n_cams
        for vid, frames in vids:
            m = SOURCE_RE.match(vid)
            assert m, vid
            act, cam = int(m.group(2)), int(m.group(4))
            assert 2 <= act < 2 + len(SMALL['actions'])
            assert len(frames) >= SMALL['frames_per_video']
            assert set(split['camera_name'][frames]) == {cam_names[cam - 1]}
            assert set(split['action'][frames]) == {SMALL['actions'][act - 2]}
            # one str object per video (keeps the pickle small)
            assert len({id(s) for s in split['source'][frames]}) == 1
    # lengths vary between recordings
    lengths = {len(f) for _, f in video_blocks(data['train']['source'])}
    assert len(lengths) > 1


def test_default_lengths_at_least_100():
    lengths = [synthetic._sequence_length(0, s, a, sa, synthetic.DEFAULT_FRAMES_PER_VIDEO)
               for s in (1, 5, 9, 11) for a in range(6) for sa in (1, 2)]
    assert min(lengths) >= 100
    assert len(synthetic.DEFAULT_ACTIONS) >= 6


def test_deterministic():
    kw = dict(SMALL, test_subjects=('S11',), actions=('Turning',))
    a = synthetic.generate_synthetic_h36m(seed=3, **kw)
    b = synthetic.generate_synthetic_h36m(seed=3, **kw)
    c = synthetic.generate_synthetic_h36m(seed=4, **kw)
    for split in ('train', 'test'):
        for key in a[split]:
            assert np.array_equal(a[split][key], b[split][key]), key
            if key in FLOAT_KEYS:
                assert a[split][key].tobytes() == b[split][key].tobytes()
        assert not np.array_equal(a[split]['joint_2d'], c[split]['joint_2d'])
        assert not np.array_equal(a[split]['joint3d_image'], c[split]['joint3d_image'])


def test_subjects_disjoint(small):
    data, _ = small

    def subjects(split):
        return {int(SOURCE_RE.match(s).group(1)) for s in set(split['source'].tolist())}

    train, test = subjects(data['train']), subjects(data['test'])
    assert train == {1, 5} and test == {9}
    with pytest.raises(ValueError):
        synthetic.generate_synthetic_h36m(train_subjects=('S1',), test_subjects=('S1',),
                                          actions=('Waving',), frames_per_video=10)


def test_bone_lengths_constant_and_subject_specific(small):
    data, world = small
    per_subject = {}
    for split in ('train', 'test'):
        xyz = world[split]['joint3d_world']
        src = data[split]['source']
        assert xyz.shape == data[split]['joint3d_image'].shape
        for vid, frames in video_blocks(src):
            p = xyz[frames]
            bones = np.stack([np.linalg.norm(p[:, c] - p[:, pa], axis=-1)
                              for pa, c in synthetic.SKELETON_LINKS], 1)
            assert np.abs(bones - bones[0]).max() < 1e-3, vid
            assert 80 < bones.min() and bones.max() < 600
            subj = vid[:4]
            if subj in per_subject:
                np.testing.assert_allclose(per_subject[subj], bones[0], atol=1e-3)
            per_subject[subj] = bones[0]
            # feet roughly on the floor, pelvis at a human height
            assert p[:, [3, 6], 2].min() > 40 and p[:, [3, 6], 2].min(1).max() < 400
            assert 400 < np.median(p[:, 0, 2]) < 1150
    subj = list(per_subject.values())
    assert all(np.abs(subj[0] - s).max() > 1.0 for s in subj[1:])


def test_projection_noise_and_confidence(small):
    data, world = small
    sizes = {c['name']: c['size'] for c in synthetic.DEFAULT_CAMERAS}
    for split in ('train', 'test'):
        d = data[split]
        uv = d['joint3d_image'][..., :2]
        w = np.array([sizes[c][0] for c in d['camera_name']])[:, None]
        h = np.array([sizes[c][1] for c in d['camera_name']])[:, None]
        assert (uv >= 0).all() and (uv[..., 0] < w).all() and (uv[..., 1] < h).all()
        # the clean 2D is the pinhole projection of the camera-space 3D
        cam = world[split]['joint3d_camera']
        assert (cam[..., 2] > 1000).all()
        err = np.linalg.norm(d['joint_2d'] - uv, axis=-1)
        assert 1.0 < np.median(err) < 8.0
        assert (err > 15).mean() > 0.001           # a few outliers
        assert (err > 15).mean() < 0.05
        assert np.corrcoef(err.ravel(), d['confidence'].ravel())[0, 1] < -0.5
        assert d['confidence'][err > 20].mean() < d['confidence'][err < 3].mean() - 0.3
        # depth channel: root-relative camera depth in pixel units
        rel_depth = cam[..., 2] - cam[:, :1, 2]
        np.testing.assert_allclose(d['joint3d_image'][..., 2] * d['2.5d_factor'][:, None],
                                   rel_depth, atol=0.05)
        assert np.abs(d['joint3d_image'][:, 0, 2]).max() < 1e-4


def test_2_5d_consistent(small):
    data, world = small
    for split in ('train', 'test'):
        d = data[split]
        expected = d['joint3d_image'] * d['2.5d_factor'][:, None, None]
        np.testing.assert_array_equal(d['joints_2.5d_image'], expected)
        focal = {c['name']: np.mean(c['focal']) for c in synthetic.DEFAULT_CAMERAS}
        f = np.array([focal[c] for c in d['camera_name']])
        np.testing.assert_allclose(d['2.5d_factor'] * f, world[split]['joint3d_camera'][:, 0, 2],
                                   rtol=1e-5)


def test_write_atomic_and_cli(tmp_path):
    out = tmp_path / 'sub' / 'h36m.pkl'
    summary = write_synthetic_h36m(str(out), generator='v1', seed=1, **SMALL)
    assert out.is_file() and os.listdir(out.parent) == ['h36m.pkl']
    assert summary['size_bytes'] == out.stat().st_size
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert summary['frames'] == {k: len(v['source']) for k, v in data.items()}
    ref = synthetic.generate_synthetic_h36m(seed=1, **SMALL)
    assert np.array_equal(data['test']['joint_2d'], ref['test']['joint_2d'])

    cli_out = tmp_path / 'cli' / 'x.pkl'
    assert cli.main(['--generator', 'v1', '--out', str(cli_out), '--seed', '2', '--frames-per-video', '20']) == 0
    assert cli_out.is_file() and os.listdir(cli_out.parent) == ['x.pkl']
    before = (cli_out.stat().st_mtime_ns, cli_out.read_bytes())
    # a second call without --force leaves the file alone
    assert cli.main(['--generator', 'v1', '--out', str(cli_out), '--seed', '5', '--frames-per-video', '20']) == 0
    assert (cli_out.stat().st_mtime_ns, cli_out.read_bytes()) == before
    # --force regenerates (different seed -> different bytes), still no temp files
    assert cli.main(['--generator', 'v1', '--out', str(cli_out), '--seed', '5', '--frames-per-video', '20',
                     '--force']) == 0
    assert cli_out.read_bytes() != before[1]
    assert os.listdir(cli_out.parent) == ['x.pkl']
    with open(cli_out, 'rb') as f:
        data = pickle.load(f)
    assert min(len(fr) for _, fr in video_blocks(data['train']['source'])) >= 20
