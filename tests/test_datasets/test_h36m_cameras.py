import os.path as osp
import pickle

import numpy as np
import pytest

from dualpose.datasets.h36m_cameras import (H36M_CAMERA_IDS, H36M_EXTRINSICS, h36m_camera,
                                            project_to_pixels, quaternion_to_matrix,
                                            world_to_camera)

SHARED_CAMERAS = osp.join(osp.dirname(__file__), '..', '..', '..', 'shared', 'data',
                          'h36m_cameras.pkl')


@pytest.mark.skipif(not osp.isfile(SHARED_CAMERAS), reason='MMPose cameras.pkl not available')
def test_constants_match_mmpose_cameras_pkl():
    """The constants (from VideoPose3D) against MMPose's independent copy of the same public
    parameters: R camera-to-world, T the camera centre, tangential coefficients reversed."""
    with open(SHARED_CAMERAS, 'rb') as f:
        ref = pickle.load(f)
    checked = 0
    for subject in H36M_EXTRINSICS:
        for camera_id in H36M_CAMERA_IDS:
            cam, want = h36m_camera(subject, camera_id), ref[(subject, camera_id)]
            t_ref = np.asarray(want['T'], dtype=np.float64).reshape(3)
            t_ref = t_ref * 1000.0 if np.abs(t_ref).max() < 100 else t_ref  # metres in the pkl
            np.testing.assert_allclose(cam['R'], want['R'], atol=1e-6)
            np.testing.assert_allclose(cam['T'], t_ref, atol=1e-2)
            np.testing.assert_allclose(cam['f'], np.ravel(want['f']), atol=1e-3)
            np.testing.assert_allclose(cam['c'], np.ravel(want['c']), atol=1e-3)
            np.testing.assert_allclose(cam['k'], np.ravel(want['k']), atol=1e-7)
            np.testing.assert_allclose(cam['p'], np.ravel(want['p'])[::-1], atol=1e-7)
            assert (cam['w'], cam['h']) == (int(want['w']), int(want['h']))
            checked += 1
    assert checked == 7 * 4


def _rotate_by_quaternion(q, v):
    """v rotated by the unit quaternion q (w, x, y, z): q v q* with the Hamilton product."""
    def mul(a, b):
        w1, x1, y1, z1 = a
        w2, x2, y2, z2 = b
        return np.array([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
                         w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                         w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                         w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2])
    q = np.asarray(q) / np.linalg.norm(q)
    conj = q * [1, -1, -1, -1]
    return mul(mul(q, np.concatenate([[0.0], v])), conj)[1:]


def test_rotation_and_world_to_camera():
    quat, trans = H36M_EXTRINSICS['S9'][2]
    rot = quaternion_to_matrix(quat)
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rot) == pytest.approx(1.0)
    v = np.array([100.0, -250.0, 40.0])
    np.testing.assert_allclose(rot @ v, _rotate_by_quaternion(quat, v), atol=1e-9)

    cam = h36m_camera('S9', H36M_CAMERA_IDS[2])
    # the camera centre is the origin; a point 2 m along the optical axis is (0, 0, 2000)
    np.testing.assert_allclose(world_to_camera(cam['T'], cam), 0, atol=1e-9)
    ahead = cam['T'] + 2000.0 * cam['R'][:, 2]
    np.testing.assert_allclose(world_to_camera(ahead, cam), [0, 0, 2000], atol=1e-9)
    # camera -> world inverts it (x_world = R x_cam + T)
    x = np.array([[300.0, -100.0, 4500.0]])
    back = world_to_camera(x @ cam['R'].T + cam['T'], cam)
    np.testing.assert_allclose(back, x, atol=1e-9)
    # the capture-area centre, 1 m above the floor, is in front of every camera and in view
    for subject in H36M_EXTRINSICS:
        for camera_id in H36M_CAMERA_IDS:
            c = h36m_camera(subject, camera_id)
            xyz = world_to_camera(np.array([0.0, 0.0, 1000.0]), c)
            uv = project_to_pixels(xyz, c)
            assert 3000 < xyz[2] < 7000
            assert 0 < uv[0] < c['w'] and 0 < uv[1] < c['h']


def test_projection_hand_computed():
    cam = dict(f=np.array([1000.0, 800.0]), c=np.array([500.0, 400.0]),
               k=np.array([0.1, 0.0, 0.0]), p=np.array([0.0, 0.0]))
    point = np.array([1000.0, 0.0, 2000.0])  # a = (0.5, 0)
    np.testing.assert_allclose(project_to_pixels(point, cam, distort=False), [1000.0, 400.0])
    # r2 = 0.25, radial = 1 + 0.1 * 0.25 = 1.025 -> x = 0.5125
    np.testing.assert_allclose(project_to_pixels(point, cam), [1012.5, 400.0])
    # tangential: a = (0.5, 0.2), r2 = 0.29, tan = 0.01*0.5 + 0.02*0.2 = 0.009
    # distorted = a * 1.009 + p * 0.29 = (0.5074, 0.2076)
    cam.update(k=np.zeros(3), p=np.array([0.01, 0.02]))
    point = np.array([1000.0, 400.0, 2000.0])
    np.testing.assert_allclose(project_to_pixels(point, cam),
                               [0.5074 * 1000 + 500, 0.2076 * 800 + 400], atol=1e-9)
    with pytest.raises(KeyError, match="subject 'S2'"):
        h36m_camera('S2', H36M_CAMERA_IDS[0])
    with pytest.raises(KeyError, match="camera '123'"):
        h36m_camera('S1', '123')
