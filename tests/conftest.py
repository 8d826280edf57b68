import os

import numpy as np
import pytest
import torch

H36M_LINKS = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9), (9, 10),
              (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16)]
H36M_FLIP_PAIRS = [(1, 4), (2, 5), (3, 6), (11, 14), (12, 15), (13, 16)]
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

torch.set_num_threads(2)

from dualpose.apis import register_all_modules  # noqa: E402

register_all_modules()


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
    monkeypatch.setenv('DUALPOSE_EXTENSIONS_DIR', str(tmp_path / 'extensions'))
    monkeypatch.setenv('DUALPOSE_ONNX_CACHE', str(tmp_path / 'onnx_cache'))


def load_tool(rel_path: str):
    """Import a script under tools/ as a module (its ``main(argv)`` is then callable)."""
    import importlib.util
    name = '_tool_' + os.path.splitext(rel_path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO_ROOT, rel_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def video_blocks(source):
    """[(video id, frame indices)] of a per-frame ``source`` array, in order of first
    appearance (each video's frames contiguous)."""
    out, start = [], 0
    for i in range(1, len(source) + 1):
        if i == len(source) or source[i] != source[start]:
            out.append((source[start], np.arange(start, i)))
            start = i
    return out


TINY_SYNTHETIC = dict(train_subjects=('S1', 'S5'), test_subjects=('S9', ),
                      families=('locomotion', 'upper_body'), recordings=1, test_recordings=1,
                      frames_per_video=26)


@pytest.fixture(scope='session')
def tiny_h36m_file(tmp_path_factory):
    """A tiny synthetic pickle in the MotionBERT layout (generator v2: 2 train subjects,
    1 test subject, 2 families, 4 real cameras, 26-41 frames per video: 120 training
    clips of 9 frames, as many as the v1 file had)."""
    from dualpose.datasets.synthetic import write_synthetic_h36m
    path = tmp_path_factory.mktemp('h36m') / 'h36m_sh_conf_cam_source_final.pkl'
    write_synthetic_h36m(str(path), seed=0, **TINY_SYNTHETIC)
    return str(path)
