import os.path as osp
import pickle

import numpy as np
import pytest
from mmengine import Config

from dualpose.datasets import Pose2dSequenceDataset
from dualpose.datasets.h36m_cameras import H36M_CAMERA_IDS
from tests.conftest import load_tool
from tests.layouts import mpi_test_data, vp3d_arrays, write_mpi, write_vp3d

PIPELINE = [dict(type='NormalizeScreen'), dict(type='PackLiftingInputs')]
MPI_CFG = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets',
                   'mpi_inf_3dhp.py')


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/dataset_converters/make_pose2d_npz.py')


def test_vp3d_2d_file_to_pose2d_sequences(tmp_path, tool, h36m_info, capsys):
    pos3d, pos2d = vp3d_arrays(('S1', 'S9'), frames=12)
    _, p2 = write_vp3d(tmp_path, pos3d=pos3d, pos2d=pos2d)
    out = tmp_path / 'extra' / 'cpn_2d.npz'
    assert tool.main(['vp3d', p2, str(out), '--subjects', 'S9']) == 0
    assert 'wrote 156 frames of 12 videos' in capsys.readouterr().out  # 4 x (12 + 13 + 14)
    ds = Pose2dSequenceDataset(ann_file=str(out), seq_len=4, metainfo=h36m_info,
                               pipeline=PIPELINE)
    assert len(ds.videos) == 12
    with np.load(out) as f:
        ids, kp, size = f['video_id'], f['keypoints'], f['image_size']
        assert f['scores'].shape == (156, 17) and np.all(f['scores'] == 1)
    first = ids == f'S9/Eating/{H36M_CAMERA_IDS[3]}'
    np.testing.assert_allclose(kp[first], pos2d['S9']['Eating'][3])
    np.testing.assert_array_equal(size[first], np.tile([1000, 1002], (first.sum(), 1)))
    with pytest.raises(SystemExit, match=r"^error: .* as 'vp3d': .*positions_2d has no "
                       r"subject 'S7'"):  # a clean error line, not a traceback
        tool.main(['vp3d', p2, str(out), '--subjects', 'S7'])
    with pytest.raises(SystemExit, match=r"^error: input file .* does not exist"):
        tool.main(['vp3d', str(tmp_path / 'absent.npz'), str(out)])


def test_mpi_npz_to_pose2d_sequences(tmp_path, tool):
    data = mpi_test_data({'TS2': 20, 'TS6': 15})
    path = write_mpi(tmp_path / 'data_test_3dhp.npz', data)
    out = tmp_path / 'mpi_2d.npz'
    assert tool.main(['mpi', path, str(out), '--split', 'test']) == 0
    info = dict(Config.fromfile(MPI_CFG).dataset_info)
    ds = Pose2dSequenceDataset(ann_file=str(out), seq_len=5, metainfo=info, pipeline=PIPELINE)
    sample = ds[len(ds) - 1]['data_samples']
    assert sample.video_id == 'TS6' and sample.image_size == (1920.0, 1080.0)
    with np.load(out) as f:
        np.testing.assert_allclose(f['keypoints'][:20], data['TS2']['data_2d'])


def test_motionbert_pickle_to_pose2d_sequences(tmp_path, tool, tiny_h36m_file):
    out = tmp_path / 'sh_2d.npz'
    assert tool.main(['motionbert', tiny_h36m_file, str(out), '--split', 'test']) == 0
    with open(tiny_h36m_file, 'rb') as f:
        test = pickle.load(f)['test']
    with np.load(out) as f:
        # the split's frames are contiguous per video already: same order, same values
        np.testing.assert_array_equal(f['video_id'], test['source'].astype(str))
        np.testing.assert_allclose(f['keypoints'], test['joint_2d'])
        np.testing.assert_allclose(f['scores'], test['confidence'])
        cam = test['camera_name'] == '54138969'
        assert np.all(f['image_size'][cam] == [1000, 1002])
