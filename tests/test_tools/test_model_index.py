"""model-index.yml and configs/dualpose/metafile.yml: every config listed once, with the
parameter and MAC counts the code gives, and results marked by who measured them."""
import glob
import os.path as osp

import pytest
import yaml

from dualpose.apis.complexity import build_model, count_macs
from dualpose.utils.config import read_config
from tests.conftest import REPO_ROOT


def _models():
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    models = []
    for rel in index['Import']:
        with open(osp.join(REPO_ROOT, rel)) as f:
            models += yaml.safe_load(f)['Models']
    return models


MODELS = _models()


def test_every_config_is_listed_once():
    configs = [m['Config'] for m in MODELS]
    assert len(configs) == len(set(configs))
    assert len({m['Name'] for m in MODELS}) == len(MODELS)
    provided = sorted(osp.relpath(p, REPO_ROOT) for p in
                      glob.glob(osp.join(REPO_ROOT, 'configs/dualpose/**/*.py'), recursive=True)
                      + glob.glob(osp.join(REPO_ROOT, 'configs/*.py')))
    assert sorted(configs) == provided
    for m in MODELS:
        assert m['Name'] == osp.splitext(osp.basename(m['Config']))[0]


_COUNTS = {}


def _counts(config):
    """(trainable parameters, T, linear MACs, all-matmul MACs), shared by equal models."""
    cfg = read_config(osp.join(REPO_ROOT, config))
    key = (repr(cfg.model), cfg.get('seq_len'))
    if key not in _COUNTS:
        model = build_model(cfg)
        res = count_macs(cfg, model=model)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        _COUNTS[key] = (trainable, res['seq_len'], int(res['linear_macs']),
                        int(res['matmul_macs']))
    return _COUNTS[key]


@pytest.mark.parametrize('entry', MODELS, ids=[m['Name'] for m in MODELS])
def test_parameters_and_macs_match_the_code(entry):
    meta = entry['Metadata']
    params, frames, linear, every = _counts(entry['Config'])
    assert meta['Parameters'] == params
    assert meta['Frames'] == frames
    assert meta['MACs (linear layers)'] == linear
    assert meta['MACs (all matmuls)'] == every
    assert linear <= every


def test_results_say_who_measured_them():
    for m in MODELS:
        for res in m.get('Results', []):
            note = res['Note']
            if 'synthetic' in res['Dataset']:
                assert note.startswith('measured by this project on the SYNTHETIC data'), m
            else:  # Human3.6M, MPI-INF-3DHP: not measured here
                assert note.startswith('reported by the paper'), m
                assert 'not measured by this project' in note
