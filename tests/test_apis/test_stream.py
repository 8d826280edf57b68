"""Live lifting: causal layers, their step-by-step caches and LiftingStream equal the causal
model's forward over the same frames."""
import numpy as np
import pytest
import torch

from dualpose.apis import LiftingStream, init_model, register_all_modules
from dualpose.codecs import ScreenLiftingCodec, flip_pose
from dualpose.models.backbones.dual_stream_former import DualStreamFormer
from dualpose.models.utils.ring_cache import new_ring_cache, ring_tensor_names, write_new_frame
from tests.conftest import REPO_ROOT

CAUSAL = f'{REPO_ROOT}/configs/dualpose/synthetic/dualpose-tiny-causal_synthetic-27f.py'
TINY = {'model.backbone.arch.embed_dims': 16, 'model.backbone.arch.depth': 2,
        'model.backbone.arch.num_heads': 2, 'model.head.hidden_dims': 32}
LINKS = [(0, 1), (1, 2), (0, 3), (3, 4)]
register_all_modules()


def _backbone(graph, window, streams=('transformer', 'gcn')):
    torch.manual_seed(0)
    # a large layer scale so that every layer changes the features visibly
    return DualStreamFormer(LINKS, 5, arch=dict(embed_dims=16, depth=3, num_heads=2),
                            causal=True, window=window, streams=streams,
                            gcn_stream=dict(temporal_graph=graph.split('-')[0],
                                            knn_self=not graph.endswith('-noself')),
                            layer_scale_init=0.5).eval()


@pytest.mark.parametrize('graph', ['banded', 'knn', 'knn-noself'])
@pytest.mark.parametrize('window', [None, 1, 3, 8])
def test_steps_equal_the_causal_forward(graph, window):
    model = _backbone(graph, window)
    x = torch.randn(2, 14, 5, 3)  # longer than every window
    with torch.no_grad():
        full = model(x)
        state = model.init_state()
        steps = torch.cat([model.step(x[:, t:t + 1], state) for t in range(14)], 1)
        prefix = model(x[:, :6])
    np.testing.assert_allclose(steps.numpy(), full.numpy(), atol=1e-5, rtol=1e-5)
    # causal: a frame's output does not change when later frames are added
    np.testing.assert_allclose(prefix.numpy(), full[:, :6].numpy(), atol=1e-5, rtol=1e-5)
    if window is not None:  # and it forgets what lies beyond the look-back
        with torch.no_grad():
            changed = model(torch.cat([torch.randn(2, 4, 5, 3), x[:, 4:]], 1))[:, 4:]
            alone = model(x[:, 4:])
        # per layer a frame reaches window - 1 frames back (the banded graph always t - 1),
        # and the reach adds up over the layers
        reach = max(window - 1, 1 if graph == 'banded' else 0) * len(model.blocks)
        tail = slice(reach, None)
        assert changed[:, tail].shape[1] > 0 or window == 8
        np.testing.assert_allclose(changed[:, tail].numpy(), alone[:, tail].numpy(),
                                   atol=1e-5, rtol=1e-5)


def test_causal_settings_are_checked():
    with pytest.raises(ValueError, match='look-back of a causal model'):
        DualStreamFormer(LINKS, 5, arch=dict(embed_dims=16, depth=1), window=4)
    with pytest.raises(ValueError, match='cannot use temporal_pos_embed'):
        DualStreamFormer(LINKS, 5, arch=dict(embed_dims=16, depth=1), causal=True,
                         temporal_pos_embed=True)
    with pytest.raises(RuntimeError, match='needs a causal backbone'):
        DualStreamFormer(LINKS, 5, arch=dict(embed_dims=16, depth=1)).init_state()


def _walk(t, j=17, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.uniform(300, 700, (1, j, 2))
    drift = np.cumsum(rng.normal(0, 3, (t, 1, 2)), 0)
    return base + drift + rng.normal(0, 2, (t, j, 2))


@pytest.fixture(scope='module')
def causal_model():
    torch.manual_seed(0)
    return init_model(CAUSAL, cfg_options={**TINY, 'model.backbone.window': 5})


@pytest.mark.parametrize('flip', [True, False])
def test_stream_equals_the_models_forward_over_the_frames(causal_model, flip):
    t, size = 16, (1000, 1002)
    kpts = _walk(t)
    stream = LiftingStream(causal_model, size, flip_test=flip)
    live = np.stack([stream.push(k) for k in kpts])
    inputs = ScreenLiftingCodec(root_index=0).encode(kpts, size)['lifting_inputs']
    causal_model.test_cfg['flip_test'] = flip
    with torch.no_grad():
        ref = causal_model.predict_coords(torch.from_numpy(inputs)[None],
                                          causal_model.dataset_meta['flip_indices'], 0)[0]
    causal_model.test_cfg['flip_test'] = True
    assert live.shape == (t, 17, 3) and stream.frames == t
    np.testing.assert_allclose(live, ref.numpy(), atol=1e-5, rtol=1e-5)
    stream.reset()  # a new sequence: the same first frame gives the same pose again
    np.testing.assert_allclose(stream.push(kpts[0]), live[0], atol=1e-6)


@pytest.mark.parametrize('window, lookahead', [(3, 1), (5, 2), (8, 4), (None, 3)])
def test_lookahead_stream_lags_and_equals_the_models_forward(window, lookahead):
    torch.manual_seed(0)
    model = init_model(CAUSAL, cfg_options={**TINY, 'model.backbone.window': window,
                                            'model.backbone.lookahead': lookahead,
                                            'model.backbone.layer_scale_init': 0.5})
    t, size = 13, (1000, 1000)  # longer than every window
    kpts = _walk(t, seed=4)
    stream = LiftingStream(model, size)
    assert stream.delay == lookahead
    pushed = [stream.push(k) for k in kpts]
    assert all(p is None for p in pushed[:lookahead])
    live = np.stack(pushed[lookahead:] + stream.flush())
    inputs = torch.from_numpy(ScreenLiftingCodec(root_index=0).encode(kpts, size)
                              ['lifting_inputs'])[None]
    flips = model.dataset_meta['flip_indices']
    with torch.no_grad():
        ref = model.predict_coords(inputs, flips, 0)[0].numpy()
        # frame 3's estimate uses frames 3 + L ahead, and nothing later
        cut = model.predict_coords(inputs[:, :4 + lookahead], flips, 0)[0].numpy()
        bb = model.backbone
        ahead = bb(inputs[:, :4 + lookahead])[:, 3 + lookahead]
        aligned = bb.aligned(inputs)[:, 3]
    assert live.shape == (t, 17, 3)
    np.testing.assert_allclose(live, ref, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(cut[3], ref[3], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(aligned.numpy(), ahead.numpy(), atol=1e-5, rtol=1e-5)
    changed = inputs.clone()
    changed[:, 3 + lookahead] += 0.5  # the L-th frame ahead changes frame 3's pose
    with torch.no_grad():
        assert not np.allclose(model.predict_coords(changed, flips, 0)[0, 3].numpy(), ref[3])
    # a sequence shorter than the look-ahead: flush returns every frame owed
    stream.reset()
    assert stream.push(kpts[0]) is None or lookahead == 0
    short = stream.flush()
    with torch.no_grad():
        one = model.predict_coords(inputs[:, :1], flips, 0)[0].numpy()
    assert len(short) == 1
    np.testing.assert_allclose(short[0], one[0], atol=1e-5, rtol=1e-5)


def test_lookahead_needs_a_causal_model():
    with pytest.raises(ValueError, match='look-ahead of a causal model'):
        DualStreamFormer(LINKS, 5, arch=dict(embed_dims=16, depth=1), lookahead=2)
    with pytest.raises(ValueError, match='lookahead must be an integer'):
        DualStreamFormer(LINKS, 5, arch=dict(embed_dims=16, depth=1), causal=True,
                         lookahead=-1)


def test_tracks_in_one_batch_equal_tracks_alone(causal_model):
    a, b = _walk(8, seed=1), _walk(8, seed=2)
    both = LiftingStream(causal_model, (1000, 1000), num_tracks=2)
    alone = [LiftingStream(causal_model, (1000, 1000)) for _ in range(2)]
    for t in range(8):
        out = both.push(np.stack([a[t], b[t]]))
        np.testing.assert_allclose(out[0], alone[0].push(a[t]), atol=1e-5)
        np.testing.assert_allclose(out[1], alone[1].push(b[t]), atol=1e-5)


def test_gaps_are_filled_from_the_past_and_bad_input_refused(causal_model):
    stream = LiftingStream(causal_model, (1000, 1000))
    kpts = np.concatenate([_walk(3), np.ones((3, 17, 1))], -1)
    stream.push(kpts[0])
    gap = kpts[1].copy()
    gap[4, :2], gap[4, 2] = np.nan, 0.0          # an undetected joint: last seen position
    with_gap = stream.push(gap)
    assert np.isfinite(with_gap).all()
    assert np.allclose(stream._last[0, 4], kpts[0, 4, :2])
    with pytest.raises(ValueError, match=r'model lifts 17 joints, the keypoints have 16'):
        stream.push(kpts[2, :16])
    with pytest.raises(ValueError, match=r"NaN or infinite coordinates .*'track 0'.*joint 2"):
        bad = kpts[2].copy()
        bad[2, 0] = np.nan
        stream.push(bad)
    with pytest.raises(ValueError, match=r'expected keypoints of shape \(J, 2\|3\)'):
        stream.push(kpts[:2])
    first = LiftingStream(causal_model, (1000, 1000))
    with pytest.raises(ValueError, match='track 0 has no joint with confidence > 0'):
        first.push(np.zeros((17, 3)))


def test_a_non_causal_model_is_refused_with_the_config_to_use():
    model = init_model(f'{REPO_ROOT}/configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py',
                       cfg_options=TINY)
    with pytest.raises(ValueError, match='needs a causal model.*dualpose-tiny-causal_synthetic'):
        LiftingStream(model, (1000, 1000))


# ------------------------------------------------------------------------------ the demo
@pytest.fixture(scope='module')
def causal_checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp('causal_model')
    config = folder / 'tiny_causal.py'
    config.write_text(f'_base_ = [{CAUSAL!r}]\n'
                      'model = dict(backbone=dict(arch=dict(embed_dims=16, depth=1, '
                      'num_heads=2), window=4), head=dict(hidden_dims=32))\n')
    torch.manual_seed(0)
    model = init_model(str(config))
    ckpt = folder / 'tiny_causal.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    return str(config), str(ckpt), model


def test_demo_online_lifts_the_file_frame_by_frame(causal_checkpoint, tmp_path, capsys):
    from tests.conftest import load_tool
    demo = load_tool('demo/lift_keypoints.py')
    config, ckpt, model = causal_checkpoint
    from dualpose.keypoints import read_keypoints
    seq = read_keypoints(f'{REPO_ROOT}/demo/samples/synthetic_walking_coco17.json')
    sample = tmp_path / 'walk.npz'  # 40 frames of the shipped sample
    np.savez(sample, keypoints=seq.keypoints[:40], keypoint_scores=seq.scores[:40],
             image_size=np.asarray(seq.image_size), joint_set='coco17')
    rc = demo.main([str(sample), '--config', config, '--checkpoint', ckpt, '--online',
                    '--no-anim', '--frames', '0', '--out-dir', str(tmp_path), '--no-progress'])
    out = capsys.readouterr().out
    assert rc == 0 and 'per-frame latency over 40 frames' in out and 'p99' in out
    saved = np.load(tmp_path / 'walk_3d.npz')
    stream = LiftingStream(model, seq.image_size, converter='coco17')
    expected = np.stack([stream.push(k, s) for k, s in zip(seq.keypoints[:40], seq.scores[:40])])
    np.testing.assert_allclose(saved['keypoints_3d'][0], expected, atol=1e-5)  # person 0


def test_live_json_lines_in_and_out(causal_checkpoint, monkeypatch, capsys):
    import io
    import json
    from tests.conftest import load_tool
    demo = load_tool('demo/lift_keypoints.py')
    config, ckpt, model = causal_checkpoint
    kpts = np.concatenate([_walk(5), np.ones((5, 17, 1))], -1)
    lines = [json.dumps(dict(keypoints=k.tolist(), frame_id=f'f{t}'))
             for t, k in enumerate(kpts)]
    lines.insert(2, '')  # blank lines are skipped
    monkeypatch.setattr('sys.stdin', io.StringIO('\n'.join(lines) + '\n'))
    rc = demo.main(['-', '--config', config, '--checkpoint', ckpt, '--image-size', '1000',
                    '1000'])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert [o['frame'] for o in out] == [0, 1, 2, 3, 4]
    assert [o['frame_id'] for o in out] == [f'f{t}' for t in range(5)]
    stream = LiftingStream(model, (1000, 1000))
    for o, k in zip(out, kpts):
        np.testing.assert_allclose(o['keypoints_3d'], stream.push(k), atol=1e-4)
    assert 'per-frame latency over 5 frames' in captured.err


def test_live_json_lines_of_a_lookahead_model_lag_and_end_complete(causal_checkpoint,
                                                                     monkeypatch, capsys):
    import io
    import json
    from tests.conftest import load_tool
    demo = load_tool('demo/lift_keypoints.py')
    config, ckpt, _ = causal_checkpoint
    kpts = np.concatenate([_walk(6, seed=5), np.ones((6, 17, 1))], -1)
    monkeypatch.setattr('sys.stdin', io.StringIO(''.join(
        json.dumps(dict(keypoints=k.tolist(), frame_id=t)) + '\n' for t, k in enumerate(kpts))))
    rc = demo.main(['-', '--config', config, '--checkpoint', ckpt, '--image-size', '1000',
                    '1000', '--cfg-options', 'model.backbone.lookahead=2'])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    out = [json.loads(line) for line in captured.out.splitlines()]
    # every frame answered once, in order; the last two after the input ended (no latency)
    assert [o['frame'] for o in out] == [0, 1, 2, 3, 4, 5]
    assert [o['frame_id'] for o in out] == [0, 1, 2, 3, 4, 5]
    assert ['latency_ms' in o for o in out] == [True] * 4 + [False] * 2
    model = init_model(config, ckpt, cfg_options={'model.backbone.lookahead': 2})
    stream = LiftingStream(model, (1000, 1000))
    expected = [p for p in (stream.push(k) for k in kpts) if p is not None] + stream.flush()
    for o, e in zip(out, expected):
        np.testing.assert_allclose(o['keypoints_3d'], e, atol=1e-4)

    monkeypatch.setattr('sys.stdin', io.StringIO('{"points": []}\n'))
    rc = demo.main(['-', '--config', config, '--checkpoint', ckpt, '--image-size', '1000',
                    '1000'])
    assert rc == 1 and 'line 1: expected {"keypoints"' in capsys.readouterr().err
    rc = demo.main(['-', '--config', config, '--checkpoint', ckpt])
    assert rc == 1 and 'needs --image-size' in capsys.readouterr().err


# ------------------------------------------------------------------------------ fast path
@pytest.mark.parametrize('graph', ['banded', 'knn', 'knn-noself'])
@pytest.mark.parametrize('window', [1, 2, 4])
def test_fixed_size_caches_keep_their_shapes_and_the_result(graph, window):
    model = _backbone(graph, window=window)
    x = torch.randn(2, 11, 5, 3)   # longer than the window: the rings wrap around
    with torch.no_grad():
        full = model(x)
        state = model.init_state(batch=2)
        rings = [(c, k) for blk in state for c in blk for k in ring_tensor_names(c)]
        shapes = [tuple(c[k].shape) for c, k in rings]
        buffers = [c[k].data_ptr() for c, k in rings]
        steps = []
        for t in range(11):
            steps.append(model.step(x[:, t:t + 1], state))
            assert [tuple(c[k].shape) for c, k in rings] == shapes
            # written in place: a step copies the new frame's rows, never the look-back
            assert [c[k].data_ptr() for c, k in rings] == buffers
    np.testing.assert_allclose(torch.cat(steps, 1).numpy(), full.numpy(), atol=1e-5)
    # per block: the attention's ring (window - 1 frames), then the graph's
    assert {(len(att['valid']), len(gcn['valid'])) for att, gcn in state} == {
        (window - 1, 1 if graph == 'banded' else window - 1)}
    with pytest.raises(ValueError, match='need a bounded look-back'):
        _backbone(graph, window=None).init_state(batch=2)


def test_a_ring_overwrites_its_oldest_frame():
    ring = new_ring_cache(3, k=(torch.zeros(2, 3, 4), 1))
    for frame in range(5):
        ring['new'] = dict(k=torch.full((2, 1, 4), float(frame)))
        write_new_frame(ring)
    # frames 0..4 into 3 rows: 3 and 4 replaced 0 and 1, the next frame replaces 2
    assert ring['k'][0, :, 0].tolist() == [3.0, 4.0, 2.0]
    assert ring['valid'].tolist() == [True, True, True] and ring['slot'] == 2
    with pytest.raises(ValueError, match="ring 'v' of shape"):
        new_ring_cache(3, v=(torch.zeros(2, 4), 1))


def test_onnxruntime_backend_equals_the_torch_stream(causal_model, tmp_path):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    from dualpose.apis.stream import export_stream_onnx
    kpts = _walk(12, seed=3)
    reference = LiftingStream(causal_model, (1000, 1000))
    fast = LiftingStream(causal_model, (1000, 1000), backend='onnxruntime', threads=1)
    for k in kpts:
        np.testing.assert_allclose(fast.push(k), reference.push(k), atol=1e-5)
    fast.reset()
    reference.reset()
    np.testing.assert_allclose(fast.push(kpts[5]), reference.push(kpts[5]), atol=1e-5)
    path, num_state = export_stream_onnx(causal_model, str(tmp_path / 'step.onnx'), rows=2)
    import onnx
    graph = onnx.load(path).graph
    # in: the frame and every ring (valid flags included); out: the pose and a new row per
    # ring, none of the look-back
    caches = [c for blk in causal_model.backbone.init_state(batch=2) for c in blk]
    assert num_state == sum(len(ring_tensor_names(c)) for c in caches)
    assert len(graph.input) == 1 + num_state
    assert len(graph.output) == 1 + sum(len(c['frame_axis']) for c in caches)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['step.onnx']  # no temporary left
    with pytest.raises(ValueError, match='backend must be one of'):
        LiftingStream(causal_model, (1000, 1000), backend='tensorrt')


def test_whole_video_clips_score_a_causal_model_as_it_runs_live(tiny_h36m_file, causal_model):
    """``whole_videos=True``: one clip per video; a causal forward over it equals live
    lifting of its frames one by one."""
    from dualpose.registry import DATASETS
    from dualpose.utils.config import read_config
    cfg = read_config(CAUSAL)
    ds_cfg = dict(cfg.test_dataloader.dataset, ann_file=tiny_h36m_file, data_root='')
    ds = DATASETS.build(ds_cfg)
    assert ds_cfg['whole_videos'] and len(ds) == len(ds.videos)
    sample = ds[0]
    frames = sample['data_samples'].metainfo['frame_indices']
    assert len(frames) == len(ds.videos[0]) and len(frames) != ds.seq_len
    inputs = sample['inputs'][None].float()
    flip = causal_model.dataset_meta['flip_indices']
    with torch.no_grad():
        whole = causal_model.predict_coords(inputs, flip, 0)[0]
        state = causal_model.backbone.init_state()
        x = torch.cat([inputs, flip_pose(inputs, flip)])
        live = []
        for t in range(inputs.shape[1]):
            p = causal_model.head(causal_model.backbone.step(x[:, t:t + 1], state))
            live.append((p[:1] + flip_pose(p[1:], flip)) / 2)
        live = torch.cat(live, 1)[0]
    np.testing.assert_allclose((live - live[:, :1]).numpy(), whole.numpy(), atol=1e-5)
