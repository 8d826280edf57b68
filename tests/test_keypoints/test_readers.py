"""Keypoint readers on tiny files of each format, person selection, and bad files."""
import json

import numpy as np
import pytest

from dualpose.keypoints import read_keypoints


def flat(xy, conf):
    return np.concatenate([np.asarray(xy, float), np.asarray(conf, float)[:, None]],
                          1).reshape(-1).tolist()


def pose(centre, joints=17, spread=20.0, seed=0):
    rng = np.random.default_rng(seed)
    return np.asarray(centre, float) + rng.uniform(-spread, spread, (joints, 2))


def write(path, data):
    path.write_text(json.dumps(data))
    return str(path)


# ------------------------------------------------------------------------------- COCO
def test_coco_annotation_file_with_visibility_flags_and_an_empty_frame(tmp_path):
    a, b = pose((100, 200), seed=1), pose((110, 205), seed=2)
    vis = np.full(17, 2.0)
    vis[3] = 0                                   # not labelled
    data = dict(
        images=[dict(id=7, file_name='f7.jpg', width=640, height=480),
                dict(id=3, file_name='f3.jpg', width=640, height=480),
                dict(id=5, file_name='f5.jpg', width=640, height=480)],
        annotations=[dict(id=1, image_id=3, category_id=1, keypoints=flat(a, vis)),
                     dict(id=2, image_id=7, category_id=1, keypoints=flat(b, np.ones(17)))],
        categories=[dict(id=1, name='person')])
    seq = read_keypoints(write(tmp_path / 'ann.json', data))
    assert seq.source_format == 'coco' and seq.joint_set == 'coco17'
    assert seq.frame_ids == ['f3.jpg', 'f5.jpg', 'f7.jpg']         # ordered by image id
    assert seq.image_size == (640.0, 480.0)
    np.testing.assert_allclose(seq.keypoints[0], a, rtol=1e-6)
    np.testing.assert_allclose(seq.keypoints[2], b, rtol=1e-6)
    assert seq.scores[0, 3] == 0 and seq.scores[0, 4] == 1         # flags 0/2 -> 0/1
    assert (seq.scores[1] == 0).all()                              # no one in frame 5


def test_coco_results_follow_one_person_past_a_higher_scoring_bystander(tmp_path):
    me = [pose((100 + 5 * t, 200), seed=t) for t in range(4)]
    other = pose((600, 200), seed=9)
    conf = np.linspace(0.3, 0.9, 17)
    results = [dict(image_id=t, category_id=1, keypoints=flat(me[t], conf), score=0.8)
               for t in range(4)]
    # frame 0 has a weaker bystander; frames 2 and 3 a stronger one, far away
    results += [dict(image_id=0, category_id=1, keypoints=flat(other, conf), score=0.5),
                dict(image_id=2, category_id=1, keypoints=flat(other, conf), score=0.99),
                dict(image_id=3, category_id=1, keypoints=flat(other, conf), score=0.99)]
    seq = read_keypoints(write(tmp_path / 'res.json', results))
    assert seq.source_format == 'coco' and seq.image_size is None
    assert seq.num_people == [2, 1, 2, 2]
    for t in range(4):
        np.testing.assert_allclose(seq.keypoints[t], me[t], rtol=1e-6, err_msg=f'frame {t}')
    np.testing.assert_allclose(seq.scores[0], conf, rtol=1e-6)    # scores, not flags


# ------------------------------------------------------------------------------- MMPose
def mmpose_instance(xy, scores, bbox_score=0.9, track_id=None):
    inst = dict(keypoints=np.asarray(xy).tolist(), keypoint_scores=list(scores),
                bbox=[[0, 0, 10, 10]], bbox_score=bbox_score)
    if track_id is not None:
        inst['track_id'] = track_id
    return inst


def test_mmpose_demo_predictions_with_track_ids(tmp_path):
    a = [pose((100, 100), seed=t) for t in range(3)]
    b = [pose((400, 100), seed=10 + t) for t in range(3)]
    info = [dict(frame_id=t + 1, instances=[mmpose_instance(a[t], np.full(17, 0.7), 0.9, 1),
                                            mmpose_instance(b[t], np.full(17, 0.6), 0.8, 2)])
            for t in range(3)]
    path = write(tmp_path / 'pred.json', dict(meta_info=dict(dataset_name='coco'),
                                               instance_info=info))
    seq = read_keypoints(path)
    assert seq.source_format == 'mmpose' and seq.joint_set == 'coco17'
    assert seq.frame_ids == [1, 2, 3]
    np.testing.assert_allclose(seq.keypoints, np.stack(a), rtol=1e-6)
    seq2 = read_keypoints(path, track_id=2)
    np.testing.assert_allclose(seq2.keypoints, np.stack(b), rtol=1e-6)
    np.testing.assert_allclose(seq2.scores, 0.6, rtol=1e-6)
    with pytest.raises(ValueError, match=r'track id 5 not found; track ids in the file: '
                                         r'\[1, 2\]'):
        read_keypoints(path, track_id=5)


def test_mmpose_inferencer_frames_and_single_image(tmp_path):
    a = pose((50, 60), joints=26, seed=3)
    frames = [dict(frame_id=0, instances=[mmpose_instance(a, np.ones(26))]),
              dict(frame_id=1, instances=[])]
    seq = read_keypoints(write(tmp_path / 'video.json', frames))
    assert seq.joint_set == 'halpe26' and seq.keypoints.shape == (2, 26, 2)
    assert (seq.scores[1] == 0).all()
    image = [mmpose_instance(a, np.ones(26))]
    seq = read_keypoints(write(tmp_path / 'image.json', image), fmt='mmpose')
    assert seq.keypoints.shape == (1, 26, 2)


# ------------------------------------------------------------------------------- AlphaPose
def test_alphapose_halpe26_natural_frame_order_and_idx(tmp_path):
    frames = ['10.jpg', '2.jpg', '1.jpg']
    people = {f: pose((100 + i, 100), joints=26, seed=i) for i, f in enumerate(frames)}
    results = [dict(image_id=f, category_id=1, keypoints=flat(people[f], np.ones(26)),
                    score=2.5, box=[0, 0, 1, 1], idx=[3.0]) for f in frames]
    seq = read_keypoints(write(tmp_path / 'alphapose-results.json', results))
    assert seq.source_format == 'alphapose' and seq.joint_set == 'halpe26'
    assert seq.frame_ids == ['1.jpg', '2.jpg', '10.jpg']
    np.testing.assert_allclose(seq.keypoints[2], people['10.jpg'], rtol=1e-6)
    assert read_keypoints(str(tmp_path / 'alphapose-results.json'), track_id=3).keypoints.shape \
        == (3, 26, 2)


def test_alphapose_full_body_136_keeps_the_26_body_joints(tmp_path):
    xy = pose((300, 300), joints=136, seed=4)
    results = [dict(image_id='0.jpg', keypoints=flat(xy, np.ones(136)), score=1.0, idx=1)]
    seq = read_keypoints(write(tmp_path / 'wholebody.json', results), fmt='alphapose')
    assert seq.joint_set == 'halpe26' and seq.keypoints.shape == (1, 26, 2)
    np.testing.assert_allclose(seq.keypoints[0], xy[:26], rtol=1e-6)


# ------------------------------------------------------------------------------- numpy
def test_npy_and_npz(tmp_path):
    arr = np.random.default_rng(5).uniform(0, 500, (6, 17, 3))
    arr[..., 2] = 0.5
    np.save(tmp_path / 'k.npy', arr)
    seq = read_keypoints(str(tmp_path / 'k.npy'))
    assert seq.source_format == 'numpy' and seq.joint_set is None   # 17: COCO or H36M?
    np.testing.assert_allclose(seq.keypoints, arr[..., :2], rtol=1e-6)
    np.testing.assert_allclose(seq.scores, 0.5)
    np.savez(tmp_path / 'k.npz', keypoints=arr[..., :2], keypoint_scores=np.ones((6, 17)),
             image_size=np.array([1920, 1080]), joint_set='h36m')
    seq = read_keypoints(str(tmp_path / 'k.npz'))
    assert seq.joint_set == 'h36m' and seq.image_size == (1920.0, 1080.0)
    assert (seq.scores == 1).all()


def test_nan_coordinates_allowed_only_where_undetected(tmp_path):
    arr = np.random.default_rng(6).uniform(0, 500, (4, 17, 3))
    arr[..., 2] = 1.0
    arr[2, 5, :2] = np.nan
    arr[2, 5, 2] = 0.0                         # undetected: fine, coordinates zeroed
    np.save(tmp_path / 'ok.npy', arr)
    seq = read_keypoints(str(tmp_path / 'ok.npy'))
    assert np.isfinite(seq.keypoints).all() and seq.scores[2, 5] == 0
    arr[1, 7, 0] = np.nan                      # detected with a NaN coordinate: refused
    np.save(tmp_path / 'bad.npy', arr)
    with pytest.raises(ValueError, match=r'bad.npy: 1 keypoints with NaN .* frame 1 .*joint 7'):
        read_keypoints(str(tmp_path / 'bad.npy'))


# ------------------------------------------------------------------------------- bad files
@pytest.mark.parametrize('name, content, message', [
    ('empty.json', '', r'empty.json: the file is empty'),
    ('broken.json', '[{"image_id": 1,', r'broken.json: is not valid JSON .* line 1'),
    ('other.json', '{"model": "resnet", "epochs": 3}',
     r'other.json: is not keypoint results: expected a COCO annotation file .* got a dict '
     r"with keys \['epochs', 'model'\]"),
    ('nolist.json', '[]', r'nolist.json: holds an empty list: no keypoint detections'),
    ('numbers.json', '[1, 2, 3]', r'numbers.json: is not keypoint results: the first entry is '
                                  r'a int'),
    ('odd.json', '[{"image_id": 1, "keypoints": [1, 2, 3, 4]}]',
     r'odd.json: entry 0 \(image 1\): "keypoints" has 4 values; expected x, y, score'),
])
def test_bad_json_files_name_the_file_and_the_problem(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_keypoints(str(path))


def test_mixed_joint_counts_and_missing_keys(tmp_path):
    results = [dict(image_id=0, keypoints=flat(pose((0, 0)), np.ones(17)), score=1),
               dict(image_id=1, keypoints=flat(pose((0, 0), joints=26), np.ones(26)), score=1)]
    with pytest.raises(ValueError, match=r'different joint counts \[17, 26\]'):
        read_keypoints(write(tmp_path / 'mixed.json', results))
    np.savez(tmp_path / 'nokp.npz', poses=np.zeros((3, 17, 2)))
    with pytest.raises(ValueError, match=r'needs a "keypoints" array .* keys: \[\'poses\'\]'):
        read_keypoints(str(tmp_path / 'nokp.npz'))
    np.save(tmp_path / 'multi.npy', np.zeros((3, 2, 17, 2)))
    with pytest.raises(ValueError, match=r'shape \(T, J, 2\) or \(T, J, 3\) .* got '
                                         r'\(3, 2, 17, 2\)'):
        read_keypoints(str(tmp_path / 'multi.npy'))
    with pytest.raises(FileNotFoundError, match='absent.json'):
        read_keypoints(str(tmp_path / 'absent.json'))


def test_a_project_registers_a_reader_for_its_own_format(tmp_path):
    """Readers sit behind KEYPOINT_READERS like the converters: a new format is a registered
    class, picked by name or, with fmt='auto', by the file's ending (or a JSON sniff)."""
    from dualpose.keypoints import KeypointReader, available_formats
    from dualpose.keypoints.readers import _finish
    from dualpose.registry import KEYPOINT_READERS

    class CsvReader(KeypointReader):  # one row per frame: x0, y0, c0, x1, y1, c1, ...
        json = False
        suffixes = ('.csv', )

        def parse(self, path, data, track_id):
            rows = np.loadtxt(path, delimiter=',', ndmin=2).reshape(-1, 17, 3)
            return _finish(path, 'csv', rows[..., :2], rows[..., 2], list(range(len(rows))),
                           None, 'h36m')

    class TaggedJsonReader(KeypointReader):
        def sniff(self, data):
            return isinstance(data, dict) and data.get('producer') == 'my-tracker'

        def parse(self, path, data, track_id):
            k = np.asarray(data['frames'], dtype=np.float64)
            return _finish(path, 'tagged', k[..., :2], k[..., 2], list(range(len(k))),
                           data['size'], None)

    KEYPOINT_READERS.register_module(name='csv', module=CsvReader)
    KEYPOINT_READERS.register_module(name='tagged', module=TaggedJsonReader)
    try:
        assert {'csv', 'tagged', 'coco', 'numpy'} <= set(available_formats())
        rows = np.random.default_rng(0).uniform(1, 100, (4, 17 * 3))
        rows[:, 2::3] = 0.5
        np.savetxt(tmp_path / 'a.csv', rows, delimiter=',')
        seq = read_keypoints(str(tmp_path / 'a.csv'))
        assert seq.source_format == 'csv' and seq.keypoints.shape == (4, 17, 2)
        np.testing.assert_allclose(seq.keypoints[2, 5], rows[2, 15:17], rtol=1e-6)
        frames = np.full((3, 17, 3), 0.9)   # a body of some size (degenerate ones are refused)
        frames[..., :2] = np.random.default_rng(1).uniform(5, 40, (3, 17, 2))
        (tmp_path / 'b.json').write_text(json.dumps(
            dict(producer='my-tracker', size=[64, 48], frames=frames.tolist())))
        seq = read_keypoints(str(tmp_path / 'b.json'))
        assert seq.source_format == 'tagged' and seq.image_size == (64.0, 48.0)
    finally:
        KEYPOINT_READERS.module_dict.pop('csv')
        KEYPOINT_READERS.module_dict.pop('tagged')
    assert 'csv' not in available_formats()
