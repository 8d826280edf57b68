import numpy as np
import pytest
import torch

from dualpose.datasets import Human36mVp3dDataset
from dualpose.datasets.h36m_cameras import H36M_CAMERA_IDS, H36M_EXTRINSICS
from dualpose.evaluation.metrics import PoseLiftingMetric
from tests.layouts import VP3D_METADATA, vp3d_arrays, write_vp3d

PIPELINE = [dict(type='NormalizeScreen'), dict(type='PackLiftingInputs')]
KEPT = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)


def build(path_3d, path_2d, info, split='test', seq_len=9, **kwargs):
    kwargs.setdefault('subjects', ['S9'])  # None: the split's subjects
    return Human36mVp3dDataset(ann_file=path_3d, ann_file_2d=path_2d, split=split,
                               seq_len=seq_len, metainfo=info, pipeline=PIPELINE, **kwargs)


def _camera_coords(world_m, subject, cam_index):
    """Independent world -> camera transform: rotate by the inverse quaternion."""
    quat, trans = H36M_EXTRINSICS[subject][cam_index]
    w, x, y, z = np.asarray(quat) / np.linalg.norm(quat)
    rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w)],
                    [2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w)],
                    [2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y)]])
    return (world_m * 1000.0 - np.asarray(trans)) @ rot.T  # rows: R^T (X - T)


def test_reads_layout_into_camera_space(tmp_path, h36m_info):
    pos3d, pos2d = vp3d_arrays(('S1', 'S9'), frames=20)
    p3, p2 = write_vp3d(tmp_path, pos3d=pos3d, pos2d=pos2d)
    ds = build(p3, p2, h36m_info)  # test split: S9 only
    # S9: 3 actions (20, 21, 22 frames) x 4 cameras; T=9, stride 9 -> 3 windows each
    assert len(ds.videos) == 12 and len(ds) == 36
    assert set(ds.arrays['subject']) == {'S9'}
    # 'Walking' and 'Walking 1' are two takes of one action
    assert sorted(set(ds.arrays['action'])) == ['Eating', 'Walking']

    sample = ds[0]
    meta = sample['data_samples'].metainfo
    assert meta['video_id'] == f'S9/Eating/{H36M_CAMERA_IDS[0]}'
    assert meta['image_size'] == (1000, 1002)
    frames = meta['frame_indices']
    cam = _camera_coords(pos3d['S9']['Eating'][frames][:, KEPT], 'S9', 0)
    np.testing.assert_allclose(sample['data_samples'].gt_mm.numpy(), cam - cam[:, :1],
                               atol=0.05)
    np.testing.assert_allclose(meta['factor_2_5d'], cam[:, 0, 2] / np.mean(
        [1145.0494384765625, 1143.7811279296875]), rtol=1e-5)
    # the 2D input is the file's 2D (normalised), confidence 1 (no scores in these files)
    uv = pos2d['S9']['Eating'][0][frames]
    np.testing.assert_allclose(sample['inputs'][..., 0].numpy(), uv[..., 0] / 1000 * 2 - 1,
                               atol=1e-5)
    assert torch.all(sample['inputs'][..., 2] == 1)


def test_normalised_target_converts_back_to_camera_millimetres(tmp_path, h36m_info):
    """The metric's pred * (w / 2) * factor of the normalised target is the camera-space pose
    exactly, so a prediction equal to the target scores 0 and an offset scores its size."""
    p3, p2 = write_vp3d(tmp_path, subjects=('S9', 'S11'), frames=20)
    ds = build(p3, p2, h36m_info, subjects=['S9', 'S11'])
    metric = PoseLiftingMetric(metrics=['mpjpe', 'p_mpjpe'])
    shifted = PoseLiftingMetric(metrics=['mpjpe'])
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        sample.pred = sample.gt_target.clone()
        metric.process(None, [sample.to_dict()])
        # move joint 5 by 12 mm along the camera's x axis: in normalised units 12 / factor / (w/2)
        moved = sample.gt_target.clone()
        factor = torch.as_tensor(sample.factor_2_5d, dtype=moved.dtype)
        moved[:, 5, 0] += 12.0 / factor / (sample.image_size[0] / 2)
        sample.pred = moved
        shifted.process(None, [sample.to_dict()])
    res = metric.compute_metrics(metric.results)
    assert res['num_frames'] == 2 * 4 * (20 + 21 + 22)
    assert res['mpjpe'] < 1e-3 and res['p_mpjpe'] < 1e-3
    assert shifted.compute_metrics(shifted.results)['mpjpe'] == pytest.approx(12 / 17, abs=1e-3)


def test_gt_2d_projection_equals_gt_file_and_units(tmp_path, h36m_info):
    pos3d, pos2d = vp3d_arrays(('S9', ), frames=20)  # noise-free 2D: a "data_2d_h36m_gt.npz"
    p3, p2 = write_vp3d(tmp_path, pos3d=pos3d, pos2d=pos2d, name_2d='data_2d_h36m_gt.npz')
    from_file = build(p3, p2, h36m_info)
    projected = build(p3, None, h36m_info, use_gt_2d=True)
    np.testing.assert_allclose(projected.arrays['joint_2d'], from_file.arrays['joint_2d'],
                               atol=1e-3)
    assert np.all(projected.arrays['confidence'] == 1)

    # the same file in millimetres: wrong by default, identical with positions_unit='mm'
    mm = {s: {a: v * 1000.0 for a, v in acts.items()} for s, acts in pos3d.items()}
    (tmp_path / 'mm').mkdir()
    p3_mm, p2_mm = write_vp3d(tmp_path / 'mm', pos3d=mm, pos2d=pos2d)
    with pytest.raises(ValueError, match=r"looks like millimetres.*positions_unit='mm'"):
        build(p3_mm, p2_mm, h36m_info)
    in_mm = build(p3_mm, p2_mm, h36m_info, positions_unit='mm')
    np.testing.assert_allclose(in_mm.arrays['joints_2.5d_image'],
                               from_file.arrays['joints_2.5d_image'], atol=0.05)


def test_longer_2d_is_cut_shorter_is_an_error(tmp_path, h36m_info):
    pos3d, pos2d = vp3d_arrays(('S9', ), frames=20)
    longer = {k: [np.concatenate([v, v[:5]]) for v in views] for k, views in pos2d['S9'].items()}
    p3, p2 = write_vp3d(tmp_path, pos3d=pos3d, pos2d={'S9': longer})
    ds = build(p3, p2, h36m_info)
    assert len(ds.arrays['source']) == 4 * (20 + 21 + 22)

    shorter = dict(pos2d['S9'])
    shorter['Walking 1'] = [v[:-2] for v in shorter['Walking 1']]
    p3, p2 = write_vp3d(tmp_path, pos3d=pos3d, pos2d={'S9': shorter})
    with pytest.raises(ValueError, match=r"data_2d_h36m_cpn_ft_h36m_dbb.npz.*"
                       r"positions_2d\['S9'\]\['Walking 1'\]\[0\] has 19 frames, fewer than "
                       r"the 21"):
        build(p3, p2, h36m_info)


def test_bad_layouts_name_file_key_and_expectation(tmp_path, h36m_info):
    pos3d, pos2d = vp3d_arrays(('S1', 'S9'), frames=20)
    p3, p2 = write_vp3d(tmp_path, pos3d=pos3d, pos2d=pos2d)
    # a subject missing
    with pytest.raises(KeyError, match=r"data_3d_h36m.npz.*positions_3d has no subjects "
                       r"\['S11'\]"):
        build(p3, p2, h36m_info, subjects=None)  # the test split: S9 and S11
    # missing files
    with pytest.raises(FileNotFoundError, match='nope.npz.*VideoPose3D layout'):
        build(p3, str(tmp_path / 'nope.npz'), h36m_info, subjects=['S9'])
    with pytest.raises(ValueError, match='ann_file_2d'):
        build(p3, None, h36m_info, subjects=['S9'])
    # wrong key
    bad = tmp_path / 'bad3d.npz'
    np.savez(bad, positions=pos3d)
    with pytest.raises(KeyError, match=r"bad3d.npz.*lacks key 'positions_3d'.*'positions'"):
        build(str(bad), p2, h36m_info, subjects=['S9'])
    # wrong joint count: the 17 joints instead of the 32 the layout stores
    few = {'S9': {a: v[:, list(KEPT)] for a, v in pos3d['S9'].items()}}
    (tmp_path / 'few').mkdir()
    p3_few, _ = write_vp3d(tmp_path / 'few', pos3d=few, pos2d=pos2d)
    with pytest.raises(ValueError, match=r"positions_3d\['S9'\]\['Eating'\] has shape "
                       r"\(22, 17, 3\), expected \(N, 32, 3\)"):
        build(p3_few, p2, h36m_info, subjects=['S9'])
    # an action of the 3D file missing in the 2D file
    part = {'S9': {k: v for k, v in pos2d['S9'].items() if k != 'Walking'}}
    (tmp_path / 'part').mkdir()
    _, p2_part = write_vp3d(tmp_path / 'part', pos3d=pos3d, pos2d=part)
    with pytest.raises(KeyError, match=r"positions_2d\['S9'\] lacks action 'Walking'"):
        build(p3, p2_part, h36m_info, subjects=['S9'])
    # 2D joints in another order (COCO's symmetry in the metadata)
    coco = dict(VP3D_METADATA, keypoints_symmetry=[[1, 3, 5, 7, 9, 11, 13, 15],
                                                   [2, 4, 6, 8, 10, 12, 14, 16]])
    (tmp_path / 'coco').mkdir()
    _, p2_coco = write_vp3d(tmp_path / 'coco', pos3d=pos3d, pos2d=pos2d, metadata=coco)
    with pytest.raises(ValueError, match=r"keypoints_symmetry.*another order"):
        build(p3, p2_coco, h36m_info, subjects=['S9'])
    # three cameras instead of four
    three = {'S9': {k: v[:3] for k, v in pos2d['S9'].items()}}
    (tmp_path / 'three').mkdir()
    _, p2_three = write_vp3d(tmp_path / 'three', pos3d=pos3d, pos2d=three)
    with pytest.raises(ValueError, match='holds 3 arrays, expected one per camera'):
        build(p3, p2_three, h36m_info, subjects=['S9'])


def test_train_split_holds_out_whole_recordings(tmp_path, h36m_info):
    p3, p2 = write_vp3d(tmp_path, subjects=('S1', 'S5'), frames=20)
    kwargs = dict(split='train', subjects=['S1', 'S5'])
    train = build(p3, p2, h36m_info, holdout=dict(fraction=0.34, part='train'), **kwargs)
    val = build(p3, p2, h36m_info, holdout=dict(fraction=0.34, part='val'), **kwargs)
    rec = {ds: {s.rsplit('/', 1)[0] for s in ds.arrays['source'][[v[0] for v in ds.videos]]}
           for ds in (train, val)}
    assert rec[train] and rec[val] and not rec[train] & rec[val]
    # every camera view of a recording on the same side
    assert len(val.videos) == 4 * len(rec[val])
