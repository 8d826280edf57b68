"""Human36mActionDataset on a tiny synthetic file: the families as labels, only the frames certain
to show a recording's own family, a fixed number of labels per class, clear errors; and the
generator's guarantee behind ``own_family_frames``."""
import numpy as np
import pytest

from dualpose.datasets.synthetic import own_family_frames
from dualpose.datasets.synthetic.motion import (FAMILIES, FPS, MAX_FADE_S, _blend_weights,
                                                _segments)
from dualpose.registry import DATASETS

CLASSES = ['Locomotion', 'Posture', 'UpperBody', 'Kick', 'Jump', 'Floor']
# long enough recordings (60-96 frames: 10-28 frames of their own family) for 9-frame clips
TINY_ACTION = dict(train_subjects=('S1', 'S5'), test_subjects=('S9', ),
                   families=('locomotion', 'upper_body', 'jump'), recordings=1,
                   test_recordings=1, frames_per_video=60)


@pytest.fixture(scope='session')
def tiny_action_file(tmp_path_factory):
    from dualpose.datasets.synthetic import write_synthetic_h36m
    path = tmp_path_factory.mktemp('action') / 'h36m_sh_conf_cam_source_final.pkl'
    write_synthetic_h36m(str(path), seed=0, **TINY_ACTION)
    return str(path)


def build(path, h36m_info, **kwargs):
    cfg = dict(type='Human36mActionDataset', ann_file=path, split='train', seq_len=9,
               stride=3, metainfo=h36m_info, first_segment=True, classes=CLASSES,
               pipeline=[dict(type='NormalizeScreen'), dict(type='PackActionInputs')])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_labels_are_the_families_and_clips_stay_in_the_own_family(tiny_action_file, h36m_info):
    full = build(tiny_action_file, h36m_info, first_segment=False)
    ds = build(tiny_action_file, h36m_info, subjects=['S1'])
    assert ds.metainfo['classes'] == CLASSES
    lengths = {str(full.arrays['source'][f[0]]): len(f) for f in full.videos}
    assert len(ds.videos) == 3 * 4   # S1: 3 families x 4 cameras
    for frames in ds.videos:
        video = str(ds.arrays['source'][frames[0]])
        assert len(frames) == own_family_frames(lengths[video]) >= 9
    seen = set()
    for i in range(len(ds)):
        sample = ds[i]
        meta = sample['data_samples'].metainfo
        label = sample['data_samples'].gt_label.item()
        assert CLASSES[label] == meta['action'] and meta['action_label'] == label
        assert meta['video_id'].startswith('s_01_')
        assert sample['inputs'].shape == (9, 17, 3)
        seen.add(meta['action'])
    assert seen == {'Locomotion', 'UpperBody', 'Jump'}
    assert len(ds) < len(build(tiny_action_file, h36m_info, subjects=['S1'],
                               first_segment=False))


def test_fixed_number_of_labels_per_class(tiny_action_file, h36m_info):
    ds = build(tiny_action_file, h36m_info, clips_per_class=2, label_seed=3)
    labels = [ds[i]['data_samples'].gt_label.item() for i in range(len(ds))]
    assert sorted(labels) == [0, 0, 2, 2, 4, 4]
    other = build(tiny_action_file, h36m_info, clips_per_class=2, label_seed=4)
    assert [c['start'] for c in ds.data_list] != [c['start'] for c in other.data_list] or \
        [c['video_index'] for c in ds.data_list] != [c['video_index'] for c in other.data_list]
    with pytest.raises(ValueError, match='clips_per_class must be an integer >= 1'):
        build(tiny_action_file, h36m_info, clips_per_class=0)


def test_errors_name_the_file_and_the_classes(tiny_action_file, h36m_info):
    with pytest.raises(ValueError, match=r"actions \['Jump'\] that are not in classes"):
        build(tiny_action_file, h36m_info, classes=['Locomotion', 'UpperBody'])
    with pytest.raises(ValueError, match='first_segment=True leaves no video'):
        build(tiny_action_file, h36m_info, seq_len=40)
    with pytest.raises(ValueError, match="classes \\['Kick'\\] are listed more than once"):
        build(tiny_action_file, h36m_info, classes=['Kick', 'Kick'])


@pytest.mark.parametrize('n_frames', [60, 120, 192])
def test_own_family_frames_is_what_the_generator_guarantees(n_frames):
    """The first segment's weight is exactly 1 over the frames own_family_frames counts,
    whatever transitions and fade are drawn (the longest fade is the worst case)."""
    t = np.arange(n_frames) / FPS
    own = own_family_frames(n_frames)
    assert own == int(n_frames / 2 - MAX_FADE_S / 2 * FPS)
    for seed in range(50):
        rng = np.random.default_rng(seed)
        plan = _segments(rng, 'kick', list(FAMILIES), n_frames / FPS, transition_prob=1.0)
        weights = _blend_weights(t, plan, MAX_FADE_S)
        assert (weights[0][:own] == 1).all(), (seed, plan)
