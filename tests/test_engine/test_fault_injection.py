"""Fault injection at the boundaries: broken checkpoints, data files and configs each give an
error naming the file, key, shape or value and what was expected, and leave the files already
in the work directory untouched.

``python -m tests.test_engine.test_fault_injection`` prints the table of what each case says.
"""
import hashlib
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from tests.conftest import REPO_ROOT, TINY_SYNTHETIC, load_tool
from tests.test_tools.test_train_test import CONFIG, tiny_options

TINY_MODEL = {'model.backbone.arch.embed_dims': 16, 'model.backbone.arch.depth': 1,
              'model.head.in_channels': 16, 'model.head.hidden_dims': 32}


def make_checkpoint(path, **overrides):
    """A checkpoint of the tiny model (weights at initialisation)."""
    from dualpose.utils.config import read_config

    from dualpose.registry import MODELS
    cfg = read_config(osp.join(REPO_ROOT, CONFIG))
    cfg.merge_from_dict(dict(TINY_MODEL, **overrides))
    model = MODELS.build(cfg.model)
    torch.save(dict(meta=dict(epoch=1, iter=1, model_cfg=cfg.model.to_dict()),
                    state_dict=model.state_dict()), path)
    return str(path)


def edit_pickle(src, dst, edit):
    with open(src, 'rb') as f:
        data = pickle.load(f)
    edit(data)
    with open(dst, 'wb') as f:
        pickle.dump(data, f)


def set_nan(data):
    data['train']['joint_2d'][5, 3, 0] = np.nan


def drop_joint(data):
    data['train']['joint_2d'] = data['train']['joint_2d'][:, :16]


def empty_split(data):
    data['train'] = {k: v[:0] for k, v in data['train'].items()}


def bad_confidences(data):
    conf = data['train']['confidence']
    data['train']['confidence'] = np.linspace(-45, 50, conf.size).reshape(conf.shape)


def huge_coordinate(data):
    data['train']['joint_2d'][7, 2, 1] = 1e30


# name -> (how the file is broken, expected fragments of the message)
CASES = {
    'truncated checkpoint': ('test', 'ckpt_truncated', ['could not read checkpoint',
                                                        'ckpt.pth', 'truncated']),
    'corrupted checkpoint': ('test', 'ckpt_garbage', ['could not read checkpoint', 'ckpt.pth']),
    'checkpoint of another config': ('test', 'ckpt_other', [
        'does not match the model built from the config', 'shape mismatches',
        '(32,) vs (16,)']),
    'truncated annotation pickle': ('train', 'pkl_truncated', [
        'could not read pickle', 'h36m_sh_conf_cam_source_final.pkl', 'truncated']),
    'annotation pickle missing a key': ('train', 'pkl_missing_key', [
        "lacks keys ['confidence']"]),
    'NaN keypoints': ('train', 'pkl_nan', ["key 'train/joint_2d' holds NaN or infinite",
                                           'frame 5']),
    'wrong joint count': ('train', 'pkl_joints', [
        "key 'train/joint_2d' has shape", '16, 2), expected', '17, 2)']),
    'empty dataset': ('train', 'pkl_empty', ["split 'train' has no frames", 'no video']),
    'missing subject': ('train', 'subject', ["no videos of subjects ['S7']"]),
    'unknown registry type in config': ('train', 'bad_type', [
        "'DualStreamFormr' is not registered", 'Did you mean', 'DualStreamFormer']),
    'truncated npz (2D sequences)': ('dataset', 'npz_truncated', [
        'could not read npz', 'seq.npz']),
    # issue 21: keys no constructor takes, values of the wrong type, values out of range
    'typo under a nested model key': ('train', 'opt:model.backbone.arch.embed_dim=16', [
        'unknown key model.backbone.arch.embed_dim', "did you mean 'embed_dims'?"]),
    'typo num_head / mlp_ration': ('train', 'opt:model.backbone.arch.num_head=2|'
                                   'model.backbone.arch.mlp_ration=2', [
        'model.backbone.arch.num_head', "'num_heads'", 'model.backbone.arch.mlp_ration',
        "'mlp_ratio'"]),
    'typo in test_cfg': ('train', 'opt:model.test_cfg.flip_tset=False', [
        'unknown key model.test_cfg.flip_tset', "did you mean 'flip_test'?"]),
    'lr=abc': ('train', 'opt:optim_wrapper.optimizer.lr=abc', [
        "optim_wrapper.optimizer.lr='abc': expected float"]),
    'seq_len=abc': ('train', 'opt:train_dataloader.dataset.seq_len=abc', [
        "train_dataloader.dataset.seq_len='abc': expected int"]),
    'depth=2.5': ('train', 'opt:model.backbone.arch.depth=2.5', [
        'model.backbone.arch.depth=2.5: expected int']),
    'stride=-1': ('train', 'opt:train_dataloader.dataset.stride=-1', [
        'stride must be >= 1', 'got -1']),
    'max_epochs=0': ('train', 'opt:train_cfg.max_epochs=0', [
        'train_cfg.max_epochs must be >= 1, got 0']),
    'max_epochs=-3': ('train', 'opt:train_cfg.max_epochs=-3', [
        'train_cfg.max_epochs must be >= 1, got -3']),
    'drop_last with a batch larger than the dataset': (
        'train', 'opt:train_dataloader.batch_size=100000|train_dataloader.drop_last=True', [
            'train_dataloader yields no batch', 'batch_size=100000', 'drop_last=True']),
    'confidences in [-45, 50]': ('train', 'pkl_conf', [
        "key 'train/confidence' holds", 'confidences outside [0, 1]', 'min -45']),
    'one 2D coordinate of 1e30': ('train', 'pkl_huge', [
        "key 'train/joint_2d' holds coordinates further than 4 image sizes", 'frame 7']),
    'exploding learning rate (non-finite weights)': ('train', 'opt:optim_wrapper.optimizer.lr=1e30', [
        'iteration 2 (epoch 1)', 'training stopped before writing a checkpoint']),
    'syntax error in the config': ('train', 'cfg_syntax', [
        'syntax error in config', 'broken.py, line 2']),
    'checkpoint of another architecture, same shapes': ('test', 'ckpt_heads', [
        'was trained with another model config',
        'model.backbone.arch.num_heads: checkpoint 2, config 4']),
    'checkpoint path is a directory': ('test', 'ckpt_dir', ['is a directory, not a checkpoint']),
    '--dump under a regular file': ('test', 'dump_under_file', [
        '--dump file', 'is a file, not a folder']),
}


def prepare(kind, tmp, tiny_file):
    """The broken input of one case: returns (data_root, extra cfg options, checkpoint)."""
    data_root = tmp / 'data'
    data_root.mkdir()
    ann = data_root / 'h36m_sh_conf_cam_source_final.pkl'
    ckpt = tmp / 'ckpt.pth'
    raw = open(tiny_file, 'rb').read()
    ann.write_bytes(raw)
    extra = []
    if kind.startswith('opt:'):
        extra = kind[4:].split('|')
    elif kind == 'pkl_conf':
        edit_pickle(tiny_file, ann, bad_confidences)
    elif kind == 'pkl_huge':
        edit_pickle(tiny_file, ann, huge_coordinate)
    elif kind == 'ckpt_heads':   # same shapes, another number of attention heads
        make_checkpoint(ckpt, **{'model.backbone.arch.num_heads': 2})
    elif kind == 'ckpt_dir':
        ckpt.mkdir()
    elif kind == 'dump_under_file':
        make_checkpoint(ckpt)
        (tmp / 'afile').write_text('a regular file')
    if kind == 'ckpt_truncated':
        make_checkpoint(ckpt)
        ckpt.write_bytes(ckpt.read_bytes()[:5000])
    elif kind == 'ckpt_garbage':
        ckpt.write_bytes(os.urandom(4096))
    elif kind == 'ckpt_other':
        make_checkpoint(ckpt, **{'model.backbone.arch.embed_dims': 32,
                                 'model.head.in_channels': 32})
    elif kind == 'pkl_truncated':
        ann.write_bytes(raw[:len(raw) // 3])
    elif kind == 'pkl_missing_key':
        edit_pickle(tiny_file, ann, lambda d: d['train'].pop('confidence'))
    elif kind == 'pkl_nan':
        edit_pickle(tiny_file, ann, set_nan)
    elif kind == 'pkl_joints':
        edit_pickle(tiny_file, ann, drop_joint)
    elif kind == 'pkl_empty':
        edit_pickle(tiny_file, ann, empty_split)
    elif kind == 'subject':
        extra = ["train_dataloader.dataset.subjects=['S7']"]
    elif kind == 'bad_type':
        extra = ['model.backbone.type=DualStreamFormr']
    elif kind == 'npz_truncated':
        path = data_root / 'seq.npz'
        np.savez(path, keypoints=np.zeros((40, 17, 2), np.float32),
                 scores=np.ones((40, 17), np.float32), video_id=np.array(['a'] * 40),
                 image_size=np.array([1000, 1000]))
        path.write_bytes(path.read_bytes()[:300])
    return str(data_root), extra, str(ckpt)


def run_case(name, tmp, tiny_file):
    """Run one case; returns the error message. The work directory holds an earlier run's
    files, which must come out byte-identical."""
    tool, kind, _ = CASES[name]
    data_root, extra, ckpt = prepare(kind, tmp, tiny_file)
    work = tmp / 'work'
    work.mkdir()
    earlier = {'epoch_1.pth': b'earlier checkpoint', 'last_checkpoint': str(work / 'epoch_1.pth'),
               'metrics.json': '{"lift/mpjpe": 40.0}'}
    for fname, content in earlier.items():
        mode = 'wb' if isinstance(content, bytes) else 'w'
        with open(work / fname, mode) as f:
            f.write(content)
    before = {f: hashlib.sha256((work / f).read_bytes()).hexdigest() for f in earlier}
    opts = [*tiny_options(data_root, 1), *extra]  # the model of TINY_MODEL
    config = CONFIG
    if kind == 'cfg_syntax':
        config = str(tmp / 'broken.py')
        with open(config, 'w') as f:
            f.write(f"_base_ = [{osp.join(REPO_ROOT, CONFIG)!r}]\nmodel = dict(type='X'\n")
    dump = [] if kind != 'dump_under_file' else ['--dump', str(tmp / 'afile' / 'preds.pkl')]
    with pytest.raises((Exception, SystemExit)) as err:
        if tool == 'train':
            load_tool('tools/train.py').main([config, '--work-dir', str(work),
                                              '--cfg-options', *opts])
        elif tool == 'test':
            load_tool('tools/test.py').main([config, ckpt, '--work-dir', str(work), *dump,
                                             '--cfg-options', *opts])
        else:
            from dualpose.utils.config import read_config

            from dualpose.registry import DATASETS
            info = dict(read_config(osp.join(
                REPO_ROOT, 'configs/_base_/datasets/h36m.py')).dataset_info)
            DATASETS.build(dict(type='Pose2dSequenceDataset', ann_file=f'{data_root}/seq.npz',
                                seq_len=9, metainfo=info))
    after = {f: hashlib.sha256((work / f).read_bytes()).hexdigest() for f in earlier}
    assert after == before, f'{name}: files of the earlier run changed'
    assert not any(p.endswith(('.pth', '.part', '.lock')) and p not in earlier
                   for p in os.listdir(work)), os.listdir(work)
    return f'{type(err.value).__name__}: {err.value}'


@pytest.mark.parametrize('name', list(CASES))
def test_fault_gives_clear_error_and_leaves_work_dir_intact(name, tmp_path, tiny_h36m_file):
    message = run_case(name, tmp_path, tiny_h36m_file)
    for fragment in CASES[name][2]:
        assert fragment in message, f'{name}: {fragment!r} not in {message!r}'


if __name__ == '__main__':  # the table for the docs
    import tempfile

    from dualpose.datasets.synthetic import write_synthetic_h36m
    from dualpose.apis import register_all_modules
    register_all_modules()
    with tempfile.TemporaryDirectory() as root:
        tiny = osp.join(root, 'tiny.pkl')
        write_synthetic_h36m(tiny, seed=0, **TINY_SYNTHETIC)
        print('| case | error |\n|---|---|')
        for i, name in enumerate(CASES):
            case_dir = osp.join(root, str(i))
            os.mkdir(case_dir)
            from pathlib import Path
            msg = run_case(name, Path(case_dir), tiny).replace(root, '<tmp>')
            print(f"| {name} | {msg.splitlines()[0][:300]} |")
