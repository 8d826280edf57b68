"""Joint-set converters on constructed poses: which source joints each H36M joint comes from,
the confidences of synthesised joints, fallbacks, left/right consistency, bad shapes."""
import numpy as np
import pytest

from dualpose.keypoints import (COCO17_JOINTS, HALPE26_JOINTS, Coco17ToH36m, Halpe26ToH36m,
                                build_converter)
from dualpose.registry import KEYPOINT_CONVERTERS
from tests.conftest import H36M_FLIP_PAIRS

COCO_FLIP_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
HALPE_FLIP_PAIRS = COCO_FLIP_PAIRS + [(20, 21), (22, 23), (24, 25)]


def named_pose(names, rng):
    """Distinct random coordinates per joint, a dict name -> (x, y) for readable checks."""
    xy = rng.uniform(0, 1000, (len(names), 2))
    return xy, {n: xy[i] for i, n in enumerate(names)}


def mirror(xy, scores, pairs, width=1000.0):
    out_xy, out_s = xy.copy(), scores.copy()
    out_xy[..., 0] = width - out_xy[..., 0]
    for a, b in pairs:
        out_xy[..., [a, b], :] = out_xy[..., [b, a], :]
        out_s[..., [a, b]] = out_s[..., [b, a]]
    return out_xy, out_s


def test_coco17_to_h36m_joint_by_joint():
    rng = np.random.default_rng(0)
    xy, p = named_pose(COCO17_JOINTS, rng)
    scores = rng.uniform(0.2, 1.0, 17)
    c = dict(zip(COCO17_JOINTS, scores))
    out, conf = Coco17ToH36m()(xy, scores)
    assert out.shape == (17, 2) and conf.shape == (17, )
    pelvis = (p['left_hip'] + p['right_hip']) / 2
    thorax = (p['left_shoulder'] + p['right_shoulder']) / 2
    expected = {
        0: pelvis, 1: p['right_hip'], 2: p['right_knee'], 3: p['right_ankle'],
        4: p['left_hip'], 5: p['left_knee'], 6: p['left_ankle'], 7: (pelvis + thorax) / 2,
        8: thorax, 9: p['nose'], 10: (p['left_eye'] + p['right_eye']) / 2,
        11: p['left_shoulder'], 12: p['left_elbow'], 13: p['left_wrist'],
        14: p['right_shoulder'], 15: p['right_elbow'], 16: p['right_wrist'],
    }
    for j, value in expected.items():
        np.testing.assert_allclose(out[j], value, rtol=1e-5, err_msg=f'H36M joint {j}')
    # a synthesised joint is as confident as its weakest source
    assert conf[0] == pytest.approx(min(c['left_hip'], c['right_hip']))
    assert conf[7] == pytest.approx(min(c['left_hip'], c['right_hip'], c['left_shoulder'],
                                        c['right_shoulder']))
    assert conf[10] == pytest.approx(min(c['left_eye'], c['right_eye']))
    assert conf[3] == pytest.approx(c['right_ankle'])


def test_coco17_head_falls_back_to_one_eye_then_ears_then_undetected():
    rng = np.random.default_rng(1)
    xy, p = named_pose(COCO17_JOINTS, rng)
    scores = np.ones((4, 17))
    scores[0, 1] = 0            # left eye missing: right eye alone
    scores[1, [1, 2]] = 0       # both eyes missing: mean of the ears
    scores[2, 1:5] = 0          # no eye, no ear: head undetected
    scores[3, 0] = 0            # nose missing: mean of the eyes
    out, conf = Coco17ToH36m()(np.broadcast_to(xy, (4, 17, 2)), scores)
    np.testing.assert_allclose(out[0, 10], p['right_eye'], rtol=1e-5)
    np.testing.assert_allclose(out[1, 10], (p['left_ear'] + p['right_ear']) / 2, rtol=1e-5)
    assert conf[2, 10] == 0 and conf[2, 9] == 1
    np.testing.assert_allclose(out[3, 9], (p['left_eye'] + p['right_eye']) / 2, rtol=1e-5)
    assert conf[:2, 10].tolist() == [1, 1]


def test_missing_hip_makes_pelvis_and_spine_undetected():
    rng = np.random.default_rng(2)
    xy, _ = named_pose(COCO17_JOINTS, rng)
    scores = np.ones(17)
    scores[11] = 0
    _, conf = Coco17ToH36m()(xy, scores)
    assert conf[0] == 0 and conf[7] == 0 and conf[4] == 0
    assert conf[1] == 1 and conf[8] == 1


def test_halpe26_uses_its_own_hip_neck_and_head():
    rng = np.random.default_rng(3)
    xy, p = named_pose(HALPE26_JOINTS, rng)
    scores = np.ones(26)
    out, conf = Halpe26ToH36m()(xy, scores)
    np.testing.assert_allclose(out[0], p['hip'], rtol=1e-5)
    np.testing.assert_allclose(out[8], p['neck'], rtol=1e-5)
    np.testing.assert_allclose(out[7], (p['hip'] + p['neck']) / 2, rtol=1e-5)
    np.testing.assert_allclose(out[10], p['head'], rtol=1e-5)
    np.testing.assert_allclose(out[3], p['right_ankle'], rtol=1e-5)
    assert (conf == 1).all()
    # Halpe's hip undetected: the mean of the two hips instead
    scores[19] = 0
    out, conf = Halpe26ToH36m()(xy, scores)
    np.testing.assert_allclose(out[0], (p['left_hip'] + p['right_hip']) / 2, rtol=1e-5)
    assert conf[0] == 1


@pytest.mark.parametrize('converter, pairs, joints', [
    (Coco17ToH36m(), COCO_FLIP_PAIRS, 17), (Halpe26ToH36m(), HALPE_FLIP_PAIRS, 26)])
def test_conversion_commutes_with_a_left_right_mirror(converter, pairs, joints):
    """Mirroring the image then converting equals converting then mirroring in H36M: no
    left/right mix-up anywhere in the mapping."""
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 1000, (5, joints, 2))
    scores = rng.uniform(0.1, 1, (5, joints))
    a_xy, a_s = converter(*mirror(xy, scores, pairs))
    b_xy, b_s = mirror(*converter(xy, scores), H36M_FLIP_PAIRS)
    np.testing.assert_allclose(a_xy, b_xy, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(a_s, b_s, rtol=1e-6)


def test_h36m_passes_through():
    xy = np.random.default_rng(5).uniform(0, 100, (3, 17, 2))
    out, conf = build_converter('h36m')(xy)
    np.testing.assert_allclose(out, xy, rtol=1e-6)
    assert (conf == 1).all()


def test_wrong_joint_count_names_expected_and_given():
    with pytest.raises(ValueError, match=r'Coco17ToH36m expects 17 joints .* got 26'):
        build_converter('coco17')(np.zeros((4, 26, 2)), np.ones((4, 26)))
    with pytest.raises(ValueError, match=r'Halpe26ToH36m expects 26 joints .* got 17'):
        build_converter('halpe26')(np.zeros((4, 17, 2)))
    with pytest.raises(ValueError, match=r'scores must have shape \(4, 17\)'):
        build_converter('coco17')(np.zeros((4, 17, 2)), np.ones((4, 16)))


def test_picked_by_name_type_or_config_dict():
    assert isinstance(build_converter('coco17'), Coco17ToH36m)
    assert isinstance(build_converter('Halpe26ToH36m'), Halpe26ToH36m)
    assert isinstance(build_converter(dict(type='Coco17ToH36m')), Coco17ToH36m)
    assert 'Coco17ToH36m' in KEYPOINT_CONVERTERS
    with pytest.raises(KeyError, match=r"'coco18' is not registered in the 'keypoint "
                                       r"converter' registry"):
        build_converter('coco18')
