"""One input check for the file readers and the inference API."""
import numpy as np
import pytest

from dualpose.keypoints import read_keypoints
from dualpose.keypoints.checks import check_image_size, check_keypoints


def spread(shape, seed=0):
    """Pixel keypoints of a body of some size (the checks refuse degenerate ones)."""
    out = np.ones(shape)
    out[..., :2] = 100 + 50 * np.random.default_rng(seed).random(shape[:-1] + (2, ))
    return out


def test_cleans_undetected_joints_and_clips_confidences():
    kpts = spread((3, 4, 3))
    kpts[1, 2, :2] = np.nan
    kpts[1, 2, 2] = 0.0        # undetected: any coordinates allowed
    kpts[2, 0, 2] = 1.7        # over-confident detector: clipped
    with pytest.warns(UserWarning, match=r'1 confidences outside \[0, 1\] .* clipped'):
        xy, scores, size = check_keypoints(kpts, image_size=(640, 480))
    assert xy.shape == (3, 4, 2) and np.isfinite(xy).all() and (xy[1, 2] == 0).all()
    assert scores[2, 0] == 1.0 and scores[1, 2] == 0.0 and size == (640.0, 480.0)
    assert check_keypoints(spread((2, 3, 2)))[1].min() == 1.0
    with pytest.warns(UserWarning):
        assert check_keypoints(kpts)[2] is None


def test_the_reader_and_the_api_say_the_same_thing(tmp_path):
    kpts = spread((5, 17, 3)).astype(np.float32)
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
        check_keypoints(spread((2, 1, 2)), np.array([[1.0], [np.nan]]), where='clip.json',
                        frame_ids=['a.jpg', 'b.jpg'])


@pytest.mark.parametrize('size', [(0, 480), (640, -1), (np.inf, 2), 'big', None])
def test_image_size_must_be_two_positive_numbers(size):
    with pytest.raises(ValueError, match='image_size must be'):
        check_image_size(size)


@pytest.mark.parametrize('size', [(15, 480), (640, 40000)])
def test_image_size_must_be_16_to_32768_px(size):
    with pytest.raises(ValueError, match=r'each side 16\.\.32768, got'):
        check_image_size(size)


def test_degenerate_and_misplaced_keypoints_are_refused():
    good = spread((4, 17, 3))
    one_point = good.copy()
    one_point[2, :, :2] = 321.0
    with pytest.raises(ValueError, match=r'1 frames with a degenerate body \(all detected '
                                         r'joints at one point.*frame 2'):
        check_keypoints(one_point, image_size=(640, 480))
    tiny = good.copy()
    tiny[1, :, :2] = 200 + tiny[1, :, :2] / 100   # spans half a pixel
    with pytest.raises(ValueError, match='degenerate body .*span 0.45 px'):
        check_keypoints(tiny, image_size=(640, 480))
    normalised = good.copy()
    normalised[..., :2] = np.random.default_rng(1).random((4, 17, 2))
    with pytest.raises(ValueError, match=r'lies in \[0, 1\]: normalised coordinates given '
                                         'as pixels'):
        check_keypoints(normalised, image_size=(640, 480))
    far = good.copy()
    far[3, 5, 1] = 1e30
    with pytest.raises(ValueError, match=r'1 keypoints further than 4 image sizes .* frame 3, '
                                         'joint 5'):
        check_keypoints(far, image_size=(640, 480))
