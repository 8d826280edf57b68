import numpy as np
import pytest

from dualpose.datasets import Pose2dSequenceDataset

PIPELINE = [dict(type='NormalizeScreen'), dict(type='RandomFlipLifting', prob=0.0),
            dict(type='PackLiftingInputs')]


def write_npz(path, n_videos=2, frames=12, joints=17, **override):
    rng = np.random.default_rng(0)
    n = n_videos * frames
    data = dict(keypoints=(rng.uniform(0, 1, (n, joints, 2)) * [640, 480]).astype(np.float32),
                scores=rng.uniform(0.2, 1, (n, joints)).astype(np.float32),
                video_id=np.repeat([f'clip{i}' for i in range(n_videos)], frames),
                image_size=np.array([640, 480]))
    data.update(override)
    data = {k: v for k, v in data.items() if v is not None}
    np.savez(path, **data)
    return str(path)


def build(path, info, seq_len=5):
    return Pose2dSequenceDataset(ann_file=path, seq_len=seq_len, metainfo=info,
                                 pipeline=PIPELINE)


def test_reads_2d_sequences_without_3d(tmp_path, h36m_info):
    ds = build(write_npz(tmp_path / 'seq.npz'), h36m_info)
    # 12 frames, T=5, stride 1 (5 // 3): starts 0..7 per video
    assert len(ds) == 2 * 8
    sample = ds[0]
    assert sample['inputs'].shape == (5, 17, 3)
    assert 'gt_target' not in sample['data_samples']
    assert sample['data_samples'].image_size == (640.0, 480.0)
    # normalised: x in [-1, 1], y in [-0.75, 0.75] for a 640x480 image
    assert sample['inputs'][..., 0].abs().max() <= 1
    assert sample['inputs'][..., 1].abs().max() <= 0.75 + 1e-6


def test_missing_scores_default_to_one(tmp_path, h36m_info):
    ds = build(write_npz(tmp_path / 'seq.npz', scores=None), h36m_info)
    assert (ds[0]['inputs'][..., 2] == 1).all()


def test_bad_inputs(tmp_path, h36m_info):
    with pytest.raises(ValueError, match=r"'keypoints' has shape \(24, 16, 2\)"):
        build(write_npz(tmp_path / 'a.npz', joints=16,
                        scores=np.ones((24, 16), np.float32)), h36m_info)
    kp = np.zeros((24, 17, 2), np.float32)
    kp[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match=r"'keypoints' holds NaN.*frame 3"):
        build(write_npz(tmp_path / 'b.npz', keypoints=kp), h36m_info)
    with pytest.raises(KeyError, match='video_id'):
        build(write_npz(tmp_path / 'c.npz', video_id=None), h36m_info)
    with pytest.raises(FileNotFoundError, match='absent.npz'):
        build(str(tmp_path / 'absent.npz'), h36m_info)


def test_extra_2d_joins_pretraining_by_config(tmp_path, h36m_info, tiny_h36m_file):
    """A ConcatDataset of Human3.6M-layout clips and 2D-only clips feeds the distiller."""
    import torch
    from mmengine.dataset import pseudo_collate

    from dualpose.registry import DATASETS, MODELS
    from tests.conftest import H36M_LINKS
    extra = write_npz(tmp_path / 'extra.npz', frames=20)
    ds = DATASETS.build(dict(type='ConcatDataset', datasets=[
        dict(type='Human36mDataset', ann_file=tiny_h36m_file, split='train', seq_len=9,
             metainfo=h36m_info, pipeline=PIPELINE),
        dict(type='Pose2dSequenceDataset', ann_file=extra, seq_len=9, metainfo=h36m_info,
             pipeline=PIPELINE)]))
    model = MODELS.build(dict(
        type='ContextualDistiller', target_generator=dict(top_k=1),
        backbone=dict(type='DualStreamFormer', arch=dict(embed_dims=16, depth=1, num_heads=4),
                      skeleton_links=H36M_LINKS, num_joints=17)))
    batch = pseudo_collate([ds[0], ds[len(ds) - 1]])  # one labelled clip, one 2D-only clip
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_crl'])
