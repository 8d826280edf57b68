import os

import pytest
import torch

H36M_LINKS = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9), (9, 10),
              (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16)]
H36M_FLIP_PAIRS = [(1, 4), (2, 5), (3, 6), (11, 14), (12, 15), (13, 16)]
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

torch.set_num_threads(2)


@pytest.fixture
def h36m_info():
    from mmengine import Config
    return dict(Config.fromfile(
        os.path.join(REPO_ROOT, 'configs/_base_/datasets/h36m.py')).dataset_info)


@pytest.fixture(autouse=True)
def _isolated_caches(tmp_path, monkeypatch):
    """Keep caches that libraries write inside the test's own folder."""
    monkeypatch.setenv('MPLCONFIGDIR', str(tmp_path / 'mpl'))
    monkeypatch.setenv('TORCHINDUCTOR_CACHE_DIR', str(tmp_path / 'inductor'))
