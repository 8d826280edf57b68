"""demo/lift_keypoints.py end to end, its refusals (no partial outputs), and the shipped
sample files."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch

from tests.conftest import REPO_ROOT, load_tool

SAMPLE = osp.join(REPO_ROOT, 'demo/samples/synthetic_walking_coco17.json')
SAMPLE_RESULTS = osp.join(REPO_ROOT, 'demo/samples/synthetic_walking_coco17_results.json')
CONFIG = osp.join(REPO_ROOT, 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')


@pytest.fixture(scope='module')
def demo():
    return load_tool('demo/lift_keypoints.py')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny config (C 16, one block) and an untrained checkpoint of it."""
    from dualpose.apis import init_model
    folder = tmp_path_factory.mktemp('tiny_model')
    config = folder / 'tiny.py'
    config.write_text(
        f'_base_ = [{CONFIG!r}]\n'
        'model = dict(backbone=dict(arch=dict(embed_dims=16, depth=1)),\n'
        '             head=dict(in_channels=16, hidden_dims=32))\n'
        'test_dataloader = dict(dataset=dict(seq_len=9))\n')
    torch.manual_seed(0)
    model = init_model(str(config))
    ckpt = folder / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return str(config), str(ckpt)


def run(demo, args, capsys):
    rc = demo.main(args)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def listing(folder):
    return sorted(os.listdir(folder)) if osp.isdir(folder) else []


def test_demo_writes_3d_result_picture_and_animation(demo, tiny, tmp_path, capsys):
    config, ckpt = tiny
    out = tmp_path / 'out'
    rc, stdout, stderr = run(demo, [SAMPLE, '--config', config, '--checkpoint', ckpt,
                                    '--out-dir', str(out), '--fps', '50',
                                    '--anim-max-frames', '10', '--frames', '0', '149'], capsys)
    assert rc == 0, stderr
    stem = 'synthetic_walking_coco17'
    expected = [f'{stem}.gif', f'{stem}_3d.json', f'{stem}_3d.npz', f'{stem}_frames.png',
                f'{stem}_viewer.html']    # no BVH: this model has no trajectory head
    assert [f for f in listing(out) if not f.endswith('.mp4')] == expected
    assert 'lifted 300 frames' in stdout and 'lifting' in stderr      # a progress bar
    assert 'camera-space output not available' in stdout
    with np.load(out / f'{stem}_3d.npz') as npz:
        assert npz['track_ids'][0] == 0 and 'tracker' in str(npz['tracked_by'])
        k3d = npz['keypoints_3d'][0]                                   # the walker
        assert k3d.shape == (300, 17, 3)
        assert np.isnan(k3d[150]).all() and np.isfinite(np.delete(k3d, 150, 0)).all()
        assert np.nanmax(np.abs(k3d[:, 0])) == 0                        # root-relative
        np.testing.assert_allclose(npz['keypoints_3d_pixels'][0], k3d * 500, rtol=1e-5)
        assert npz['filled'][0, 150].all() and npz['scores'][0, 150].max() == 0  # empty frame
        assert not npz['present'][0, 150] and npz['present'][0].sum() == 299
        assert npz['filled'][0, 100:104, 13].all()            # the lost left wrist
        assert 'normalised screen units' in json.loads(str(npz['units']))['keypoints_3d']
        assert 'no trajectory head' in str(npz['camera_space'])
        assert 'skipped' in npz['track_status'].tolist()      # a bystander's fragments
    record = json.loads((out / f'{stem}_3d.json').read_text())
    assert record['joint_set'] == 'coco17' and record['image_size'] == [1000.0, 1002.0]
    np.testing.assert_allclose(np.array(record['keypoints_3d'][0], dtype=float), k3d,
                               atol=1e-5)
    from PIL import Image
    with Image.open(out / f'{stem}.gif') as gif:
        assert gif.n_frames == 10                            # every 30th of 300 frames
    with Image.open(out / f'{stem}_frames.png') as png:
        assert min(png.size) > 200                          # 2 frames x (2D, 3D)


def test_demo_cfg_options_reach_the_model(demo, tiny, tmp_path, capsys):
    """--cfg-options is merged into the config: the fused attention (the CPU kernel for head
    dim 4) gives the same 3D as SDPA."""
    config, ckpt = tiny
    results = []
    for impl in ('sdpa', 'fused'):
        out = tmp_path / impl
        rc, stdout, stderr = run(demo, [
            SAMPLE, '--config', config, '--checkpoint', ckpt, '--out-dir', str(out),
            '--no-anim', '--frames', '0', '--no-progress', '--cfg-options',
            'model.backbone.arch.num_heads=4',
            f'model.backbone.transformer_stream.attn_impl={impl}'], capsys)
        assert rc == 0, stderr
        with np.load(out / 'synthetic_walking_coco17_3d.npz') as npz:
            results.append(npz['keypoints_3d'])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('case, message', [
    ('empty', 'the file is empty'),
    ('not_results', 'is not keypoint results'),
    ('wrong_joints', 'Halpe26ToH36m expects 26 joints'),
    ('nan', 'NaN or infinite coordinates and confidence > 0, the first at frame 2'),
    ('no_size', 'does not state the image size; pass --image-size W H'),
    ('ambiguous', 'cannot tell the joint set of 17 joints; pass --joints'),
    ('mismatch', 'does not match the model of'),
    ('no_checkpoint', 'does not exist. The shipped one is'),
])
def test_demo_refuses_bad_input_and_writes_nothing(demo, tiny, tmp_path, capsys, case,
                                                   message):
    config, ckpt = tiny
    args = ['--config', config, '--checkpoint', ckpt]
    arr = np.random.default_rng(0).uniform(100, 900, (20, 17, 3))
    arr[..., 2] = 1
    if case == 'empty':
        (tmp_path / 'in.json').write_text('')
        args = [str(tmp_path / 'in.json')] + args
    elif case == 'not_results':
        (tmp_path / 'in.json').write_text(json.dumps(dict(model='x', lr=0.1)))
        args = [str(tmp_path / 'in.json')] + args
    elif case == 'wrong_joints':
        args = [SAMPLE, '--joints', 'halpe26'] + args
    elif case == 'nan':
        arr[2, 3, 0] = np.nan
        np.savez(tmp_path / 'in.npz', keypoints=arr, joint_set='coco17',
                 image_size=np.array([1000, 1000]))
        args = [str(tmp_path / 'in.npz')] + args
    elif case == 'no_size':
        args = [SAMPLE_RESULTS] + args
    elif case == 'ambiguous':
        np.save(tmp_path / 'in.npy', arr)
        args = [str(tmp_path / 'in.npy'), '--image-size', '1000', '1000'] + args
    elif case == 'mismatch':
        args = [SAMPLE, '--config', CONFIG, '--checkpoint', ckpt]     # C 32 config, C 16 file
    elif case == 'no_checkpoint':
        args = [SAMPLE, '--config', config, '--checkpoint', str(tmp_path / 'absent.pth')]
    out = tmp_path / 'out'
    rc, _, stderr = run(demo, args + ['--out-dir', str(out)], capsys)
    assert rc == 1
    assert stderr.startswith('error: ') and message in stderr, stderr
    assert listing(out) == []


def test_a_failure_while_drawing_leaves_no_output(demo, tiny, tmp_path, capsys, monkeypatch):
    import dualpose.visualization as vis
    config, ckpt = tiny
    calls = []

    def failing_render(self, t):
        calls.append(t)
        if len(calls) > 3:
            raise RuntimeError('disk full (simulated)')
        return original(self, t)

    original = vis.SkeletonAnimator.render
    monkeypatch.setattr(vis.SkeletonAnimator, 'render', failing_render)
    out = tmp_path / 'out'
    rc, _, stderr = run(demo, [SAMPLE, '--config', config, '--checkpoint', ckpt, '--out-dir',
                               str(out), '--anim-max-frames', '10'], capsys)
    assert rc == 1 and 'disk full (simulated)' in stderr
    assert listing(out) == []                              # no final names, no temporaries


def test_shipped_samples_are_what_the_generator_writes():
    maker = load_tool('demo/make_sample_keypoints.py')
    coco, results = maker.build_files(300)
    with open(SAMPLE) as f:
        shipped = json.load(f)
    assert shipped['annotations'] == json.loads(json.dumps(coco['annotations']))
    assert shipped['images'] == coco['images']
    with open(SAMPLE_RESULTS) as f:
        assert json.load(f) == json.loads(json.dumps(results))


def test_sample_conversion_round_trip_recovers_the_h36m_limbs():
    """H36M -> COCO (sample generator) -> H36M (the demo's converter): limbs and nose come back
    exactly, the pelvis is the hip midpoint, the head lies between nose and head top."""
    from dualpose.keypoints import build_converter
    maker = load_tool('demo/make_sample_keypoints.py')
    seq = maker.make_sequence(12)
    back, conf = build_converter('coco17')(seq['keypoints'], seq['scores'])
    h36m = seq['h36m']
    for j in (1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16):
        np.testing.assert_allclose(back[:, j], h36m[:, j], rtol=1e-5, err_msg=f'joint {j}')
        np.testing.assert_allclose(conf[:, j], seq['h36m_scores'][:, j], rtol=1e-5)
    np.testing.assert_allclose(back[:, 0], (h36m[:, 1] + h36m[:, 4]) / 2, rtol=1e-5)
    t = np.einsum('tc,tc->t', back[:, 10] - h36m[:, 9], h36m[:, 10] - h36m[:, 9]) / \
        np.einsum('tc,tc->t', h36m[:, 10] - h36m[:, 9], h36m[:, 10] - h36m[:, 9])
    np.testing.assert_allclose(t, 0.4, rtol=1e-4)             # eyes 40% of the way up


def test_shipped_checkpoint_loads_with_the_default_config():
    from dualpose.apis import init_model
    path = osp.join(REPO_ROOT, 'demo/checkpoints/dualpose-tiny_synthetic-27f.pth')
    assert osp.getsize(path) < 10 * 2 ** 20
    model = init_model(CONFIG, path)
    assert model.seq_len == 27
