import numpy as np
import torch

from dualpose.datasets.transforms import NormalizeScreen, PackLiftingInputs, RandomFlipLifting
from dualpose.codecs import flip_pose
from dualpose.codecs import pixels_to_screen as normalize_screen
from dualpose.structures.skeleton import build_flip_indices
from tests.conftest import H36M_FLIP_PAIRS

FLIP = build_flip_indices(H36M_FLIP_PAIRS, 17)


def _results(seed=0):
    rng = np.random.default_rng(seed)
    return dict(keypoints_2d=rng.uniform(0, 1000, (5, 17, 2)).astype(np.float32),
                keypoint_scores=rng.uniform(0.1, 1, (5, 17)).astype(np.float32),
                target_3d=rng.uniform(0, 1000, (5, 17, 3)).astype(np.float32),
                target_mm=rng.uniform(-500, 500, (5, 17, 3)).astype(np.float32),
                image_size=(1000, 1002), root_index=0, flip_indices=FLIP)


def test_normalize_screen_values():
    pts = np.array([[0.0, 0.0], [1000.0, 1002.0], [500.0, 501.0]], np.float32)
    out = normalize_screen(pts, 1000, 1002)
    np.testing.assert_allclose(out, [[-1, -1.002], [1, 1.002], [0, 0]], atol=1e-6)
    depth = normalize_screen(np.array([[0, 0, 250.0]], np.float32), 1000, 1000)
    assert depth[0, 2] == 0.5


def test_flip_is_an_involution_and_mirrors_x():
    x = np.random.default_rng(0).normal(size=(4, 17, 3)).astype(np.float32)
    np.testing.assert_array_equal(flip_pose(flip_pose(x, FLIP), FLIP), x)
    f = flip_pose(x, FLIP)
    np.testing.assert_array_equal(f[:, 4, 0], -x[:, 1, 0])  # left hip <- mirrored right hip
    np.testing.assert_array_equal(f[:, 4, 1:], x[:, 1, 1:])
    t = torch.from_numpy(x)
    torch.testing.assert_close(flip_pose(t, FLIP), torch.from_numpy(f))


def test_flip_transform_commutes_with_normalisation_of_mirrored_image():
    """Flipping normalised coords equals normalising the pixel coords mirrored about the
    image's vertical centre line (x -> w - x) with left/right joints swapped."""
    res = NormalizeScreen()(_results())
    flipped = RandomFlipLifting(prob=1.0)(dict(res))
    raw = _results()
    raw['keypoints_2d'] = raw['keypoints_2d'][:, FLIP].copy()
    raw['keypoints_2d'][..., 0] = 1000 - raw['keypoints_2d'][..., 0]
    raw['keypoint_scores'] = raw['keypoint_scores'][:, FLIP]
    mirrored = NormalizeScreen()(raw)
    np.testing.assert_allclose(flipped['lifting_inputs'], mirrored['lifting_inputs'], atol=1e-5)
    assert flipped['flipped'] is True


def test_flip_prob_zero_is_identity_and_pack():
    res = NormalizeScreen()(_results())
    same = RandomFlipLifting(prob=0.0)(dict(res))
    np.testing.assert_array_equal(same['lifting_inputs'], res['lifting_inputs'])
    packed = PackLiftingInputs()(dict(res, video_id='v', frame_indices=np.arange(5)))
    assert packed['inputs'].shape == (5, 17, 3)
    assert packed['data_samples'].video_id == 'v'
    assert torch.all(packed['data_samples'].gt_target[:, 0] == 0)
    assert torch.all(packed['data_samples'].gt_mm[:, 0] == 0)
