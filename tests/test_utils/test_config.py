"""The one config loader: cfg-options merged, the window length set once and given to every
dataloader."""
import os.path as osp

import pytest

from dualpose.utils.config import read_config, resolve_seq_len, window_length

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')
XS = osp.join(REPO, 'configs/dualpose/h36m/dualpose-xs_h36m-27f.py')


def _windows(cfg):
    return {k: (cfg[k].dataset.get('seq_len'), cfg[k].dataset.get('stride'))
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')}


@pytest.mark.parametrize('path', [TINY, XS])
def test_one_seq_len_reaches_every_dataloader(path):
    cfg = read_config(path)
    # the base data config says 243; the child sets 27 once and every split follows, the
    # validation split with non-overlapping windows
    assert _windows(cfg) == {'train_dataloader': (27, None), 'val_dataloader': (27, 27),
                             'test_dataloader': (27, None)}
    assert window_length(cfg) == 27


def test_cfg_options_change_the_window_everywhere_or_per_split():
    cfg = read_config(TINY, {'seq_len': 9})
    assert set(_windows(cfg).values()) == {(9, None), (9, 9)} and window_length(cfg) == 9
    cfg = read_config(TINY, {'train_dataloader.dataset.seq_len': 5})
    assert _windows(cfg)['train_dataloader'] == (5, None)
    assert _windows(cfg)['test_dataloader'] == (27, None)
    assert window_length(cfg) == 27  # the window tools/test.py and the API run on
    cfg = read_config(TINY, {'test_dataloader.dataset.seq_len': 9})
    assert window_length(cfg) == 9


def test_resolve_reaches_wrapped_datasets_and_is_idempotent():
    from mmengine.config import Config
    cfg = Config(dict(seq_len=11, train_dataloader=dict(dataset=dict(
        type='ConcatDataset', datasets=[dict(type='A'), dict(type='B', seq_len=4),
                                        dict(type='RepeatDataset', dataset=dict(
                                            type='C', stride='seq_len'))]))))
    resolve_seq_len(cfg)
    inner = cfg.train_dataloader.dataset.datasets
    assert [d.get('seq_len') for d in inner] == [11, 4, None]
    assert inner[2].dataset.seq_len == 11 and inner[2].dataset.stride == 11
    before = cfg.to_dict()
    assert resolve_seq_len(cfg).to_dict() == before
    assert window_length(Config(dict())) == 243
