"""One input check for the file readers and the inference API."""
import numpy as np
import pytest

from dualpose.keypoints import read_keypoints
from dualpose.keypoints.checks import check_image_size, check_keypoints


def test_cleans_undetected_joints_and_clips_confidences():
    kpts = np.ones((3, 4, 3))
    kpts[1, 2, :2] = np.nan
    kpts[1, 2, 2] = 0.0        # undetected: any coordinates allowed
    kpts[2, 0, 2] = 1.7        # over-confident detector: clipped
    xy, scores, size = check_keypoints(kpts, image_size=(640, 480))
    assert xy.shape == (3, 4, 2) and np.isfinite(xy).all() and (xy[1, 2] == 0).all()
    assert scores[2, 0] == 1.0 and scores[1, 2] == 0.0 and size == (640.0, 480.0)
    assert check_keypoints(np.ones((2, 3, 2)))[1].min() == 1.0 and check_keypoints(kpts)[2] is None


def test_the_reader_and_the_api_say_the_same_thing(tmp_path):
    kpts = np.ones((5, 17, 3), dtype=np.float32)
    kpts[3, 6, 0] = np.inf
    path = tmp_path / 'walk.npy'
    np.save(path, kpts)
    pattern = r'1 keypoints with NaN or infinite coordinates .* frame 3\b.*joint 6'
    with pytest.raises(ValueError, match=f'{path}: ' + pattern):
        read_keypoints(str(path))
    with pytest.raises(ValueError, match='keypoints: ' + pattern):
        check_keypoints(kpts)
    with pytest.raises(ValueError, match=r"clip.json: confidence is NaN or infinite at "
                                         r"frame 1 \('b.jpg'\), joint 0"):
        check_keypoints(np.ones((2, 1, 2)), np.array([[1.0], [np.nan]]), where='clip.json',
                        frame_ids=['a.jpg', 'b.jpg'])


@pytest.mark.parametrize('size', [(0, 480), (640, -1), (np.inf, 2), 'big', None])
def test_image_size_must_be_two_positive_numbers(size):
    with pytest.raises(ValueError, match='image_size must be'):
        check_image_size(size)
