"""Units of exact resume and crash-safe checkpoints: the seeded sampler, the per-sample
augmentation generator, the held-out validation split, the random-state hook, checkpoint
selection and checking, and the Slurm environment mapping."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler
from torch.utils.data import DataLoader

from dualpose.datasets import SampleIndex, SeededSampler, sample_rng
from dualpose.engine import (RandomStateHook, check_state_dict_matches,
                             find_resumable_checkpoint, get_rng_states)
from dualpose.registry import DATASETS
from dualpose.utils.compat import slurm_to_torch_env


class Items:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def test_seeded_sampler_keeps_default_order_and_carries_seed_and_epoch():
    ref, ours = DefaultSampler(Items(10), seed=3), SeededSampler(Items(10), seed=3)
    for epoch in (0, 1):
        ref.set_epoch(epoch)
        ours.set_epoch(epoch)
        got = list(ours)
        assert [int(i) for i in got] == list(ref)
        assert all(isinstance(i, SampleIndex) and i.seed == 3 and i.epoch == epoch for i in got)


def test_seeded_sampler_starts_part_way_once():
    sampler = SeededSampler(Items(10), seed=0)
    full = [int(i) for i in sampler]
    sampler.set_start(4)
    assert [int(i) for i in sampler] == full[4:]
    assert [int(i) for i in sampler] == full  # the start applies to one iteration only
    with pytest.raises(ValueError, match='>= 0'):
        sampler.set_start(-1)


def test_sample_index_pickles_and_seeds_its_own_generator():
    idx = SampleIndex(7, seed=5, epoch=2)
    back = pickle.loads(pickle.dumps(idx))
    assert (int(back), back.seed, back.epoch) == (7, 5, 2)
    assert sample_rng(back).random() == sample_rng(idx).random()
    assert sample_rng(SampleIndex(7, 5, 3)).random() != sample_rng(idx).random()
    assert sample_rng(7) is None  # a plain index: the caller uses the global state


@pytest.fixture
def flip_dataset(tiny_h36m_file, h36m_info):
    return DATASETS.build(dict(
        type='Human36mDataset', ann_file=tiny_h36m_file, split='train', seq_len=9,
        metainfo=h36m_info, pipeline=[dict(type='NormalizeScreen'),
                                      dict(type='RandomFlipLifting', prob=0.5),
                                      dict(type='PackLiftingInputs')]))


def flips(dataset, num_workers, epoch):
    sampler = SeededSampler(dataset, shuffle=True, seed=0)
    sampler.set_epoch(epoch)
    loader = DataLoader(dataset, batch_size=8, sampler=sampler, num_workers=num_workers,
                        collate_fn=lambda batch: batch)
    return [(s['data_samples'].sample_idx, bool(s['data_samples'].metainfo.get('flipped')))
            for batch in loader for s in batch]


def test_augmentation_does_not_depend_on_workers(flip_dataset):
    """The random flips of an epoch are the same whether 0 or 2 worker processes load it,
    and differ between epochs."""
    np.random.seed(123)  # the global state must not matter
    in_process = flips(flip_dataset, 0, epoch=0)
    np.random.seed(456)
    assert flips(flip_dataset, 2, epoch=0) == in_process
    flipped = [f for _, f in in_process]
    assert 0 < sum(flipped) < len(flipped)
    assert dict(flips(flip_dataset, 0, epoch=1)) != dict(in_process)


def build_split(path, info, part, fraction=0.25, seed=0):
    return DATASETS.build(dict(type='Human36mDataset', ann_file=path, split='train', seq_len=9,
                               metainfo=info, holdout=dict(fraction=fraction, part=part,
                                                           seed=seed)))


def test_holdout_splits_whole_recordings(tiny_h36m_file, h36m_info):
    def names(ds):
        return {str(ds.arrays['source'][v[0]]) for v in ds.videos}

    full = DATASETS.build(dict(type='Human36mDataset', ann_file=tiny_h36m_file,
                               split='train', seq_len=9, metainfo=h36m_info))
    train = build_split(tiny_h36m_file, h36m_info, 'train')
    val = build_split(tiny_h36m_file, h36m_info, 'val')
    assert names(train).isdisjoint(names(val))
    assert names(train) | names(val) == names(full)
    recordings = {n.rsplit('_ca_', 1)[0] for n in names(val)}
    assert len(recordings) == 1  # 25% of 4 recordings, with all four cameras
    assert len(names(val)) == 4
    other = build_split(tiny_h36m_file, h36m_info, 'val', seed=1)
    assert names(other) != names(val) or len(recordings) == 4


@pytest.mark.parametrize('holdout, message', [
    (dict(fraction=1.5), r"holdout\['fraction'\] must be in \(0, 1\)"),
    (dict(part='test'), r"holdout\['part'\] must be 'train' or 'val'"),
    (dict(ratio=0.1), "holdout must be a dict with keys"),
    (dict(fraction=0.9), 'leaves none to train on'),
])
def test_holdout_bad_values(tiny_h36m_file, h36m_info, holdout, message):
    with pytest.raises(ValueError, match=message):
        DATASETS.build(dict(type='Human36mDataset', ann_file=tiny_h36m_file, split='train',
                            seq_len=9, metainfo=h36m_info, holdout=holdout))


def test_random_state_hook_restores_on_resume_and_shields_training_from_validation():
    hook = RandomStateHook()
    torch.manual_seed(0)
    np.random.seed(0)
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    expected = (torch.rand(3), np.random.rand(3))
    torch.manual_seed(99)  # a new process reseeds
    np.random.seed(99)
    hook.after_load_checkpoint(None, checkpoint)
    hook.before_train(None)
    got = (torch.rand(3), np.random.rand(3))
    torch.testing.assert_close(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])

    state = get_rng_states()
    hook.before_val(None)
    torch.rand(100)  # validation draws
    hook.after_val(None)
    after = get_rng_states()
    assert torch.equal(state['torch'], after['torch'])


def test_check_state_dict_names_keys_and_shapes():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 3))
    good = model.state_dict()
    assert check_state_dict_matches(model, dict(good, extra=torch.zeros(1)), 'x.pth') == ['extra']
    bad = dict(good)
    bad['0.weight'] = torch.zeros(16, 4)
    del bad['1.bias']
    with pytest.raises(ValueError) as err:
        check_state_dict_matches(model, bad, 'ckpt.pth')
    msg = str(err.value)
    assert "'ckpt.pth'" in msg and '0.weight: (16, 4) vs (8, 4)' in msg and "'1.bias'" in msg


def save_ckpt(path, step):
    torch.save(dict(meta=dict(iter=step), state_dict=dict(w=torch.full((2, ), step))), path)


def test_find_resumable_checkpoint_skips_unreadable_files(tmp_path):
    assert find_resumable_checkpoint(str(tmp_path)) is None
    save_ckpt(tmp_path / 'epoch_1.pth', 1)
    save_ckpt(tmp_path / 'epoch_2.pth', 2)
    data = (tmp_path / 'epoch_2.pth').read_bytes()
    (tmp_path / 'epoch_2.pth').write_bytes(data[:len(data) // 2])  # truncated
    (tmp_path / 'epoch_3.pth').write_bytes(b'not a checkpoint')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    warnings = []

    class Log:
        def warning(self, msg):
            warnings.append(msg)

    assert find_resumable_checkpoint(str(tmp_path), Log()) == str(tmp_path / 'epoch_1.pth')
    assert len(warnings) == 2 and 'epoch_3.pth' in warnings[0] and 'epoch_2.pth' in warnings[1]
    (tmp_path / 'last_checkpoint').write_text('')  # an empty record: newest readable file
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')


def test_slurm_variables_map_to_torch_distributed():
    env = dict(SLURM_PROCID='3', SLURM_NTASKS='8', SLURM_LOCALID='1', MASTER_ADDR='node7')
    assert slurm_to_torch_env(env) == dict(RANK='3', WORLD_SIZE='8', LOCAL_RANK='1',
                                           MASTER_PORT='29500', MASTER_ADDR='node7')
    env = dict(SLURM_PROCID='0', SLURM_NTASKS='2', SLURM_NODELIST='hostA,hostB',
               MASTER_PORT='1234')
    got = slurm_to_torch_env(env)
    assert got['MASTER_PORT'] == '1234' and got['MASTER_ADDR'] == 'hostA'
    with pytest.raises(RuntimeError, match='SLURM_PROCID'):
        slurm_to_torch_env({})
