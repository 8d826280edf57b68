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


# ------------------------------------------------------------------------------------------
# Work-dir cases (issue 21): resume, lock, copied work dirs, checkpoints written under faults.
# One tiny training (batch 4, one epoch, a checkpoint every 3 iterations) is copied into each
# case's work dir; a refused run must leave every file of it byte-identical.

# (half of the tiny set's recordings held out: 76 training clips, 19 iterations; no
# validation: these runs only need their checkpoints)
BATCH4 = ['train_dataloader.batch_size=4', 'default_hooks.checkpoint.by_epoch=False',
          'default_hooks.checkpoint.interval=3', 'default_hooks.checkpoint.max_keep_ckpts=-1',
          'default_hooks.checkpoint.save_best=None', 'train_cfg.val_interval=100',
          'train_dataloader.dataset.holdout.fraction=0.5']


def snapshot(work):
    """{relative path: sha256} of a work dir, without the per-run log folders."""
    out = {}
    for root, dirs, files in os.walk(work):
        rel_root = osp.relpath(root, work)
        if rel_root == '.':
            dirs[:] = [d for d in dirs if not (len(d) == 15 and d[8] == '_' and d[:8].isdigit())]
        for f in files:
            path = osp.join(root, f)
            out[osp.normpath(osp.join(rel_root, f))] = hashlib.sha256(
                open(path, 'rb').read()).hexdigest()
    return out


@pytest.fixture(scope='module')
def batch4_run(tmp_path_factory, tiny_h36m_file):
    tmp = tmp_path_factory.mktemp('batch4')
    data_root = osp.dirname(tiny_h36m_file)
    work = tmp / 'work'
    load_tool('tools/train.py').main([CONFIG, '--work-dir', str(work), '--cfg-options',
                                      *tiny_options(data_root, 1), *BATCH4])
    return data_root, work


def _dead_pid():
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def next_second():
    """Wait for the next wall-clock second: mmengine names a run's logger after a timestamp
    of one-second resolution, and a second run in the same process and second would log into
    the first run's file."""
    import time
    time.sleep(1.02 - time.time() % 1)


def run_log(work, capsys=None):
    """The text of the newest run's log file in ``work`` (mmengine's logger writes there), and
    what was printed."""
    logs = sorted(work.glob('*_*/*.log'), key=lambda p: p.stat().st_mtime)
    text = logs[-1].read_text() if logs else ''
    if capsys is not None:
        out = capsys.readouterr()
        text += out.out + out.err
    return text


def _iter_of(work):
    return torch.load(work / (work / 'last_checkpoint').read_text().strip(),
                      map_location='cpu', weights_only=False)['meta']['iter']


# name -> (resume from, extra --cfg-options, set-up, expected fragments; None: the run
# succeeds and the fragments are looked for in its log)
WORK_DIR_CASES = {
    'resume mid-epoch with batch 16 after batch 4': (
        'iter_3.pth', ['train_dataloader.batch_size=16'], None, [
            'cannot resume part-way through epoch 1 (after 12 samples per process)',
            'batch_size 4 -> 16', 'not a whole number of batches of 16']),
    'resume mid-epoch onto another dataset': (
        'iter_3.pth', ['train_dataloader.dataset.holdout.fraction=0.75'], None, [
            'cannot resume part-way through epoch 1', 'dataset_len']),
    'resume with a changed learning rate': (
        'auto', ['optim_wrapper.optimizer.lr=0.5'], None, [
            'cannot resume from', 'optim_wrapper.optimizer.lr: checkpoint 0.001, now 0.5',
            'load_from=']),
    'resume with a changed scheduler': (
        'auto', ['param_scheduler.0.gamma=0.5'], None, [
            'param_scheduler.0.gamma: checkpoint 0.8, now 0.5']),
    'second run in a work dir in use': ('auto', [], 'live_lock', [
        'is in use by another training run', 'train.lock']),
}


def run_work_dir_case(name, tmp, batch4):
    import shutil
    data_root, trained = batch4
    start, extra, setup, _ = WORK_DIR_CASES[name]
    work = tmp / 'work'
    shutil.copytree(trained, work)
    if setup == 'live_lock':
        import json
        import socket
        (work / 'train.lock').write_text(json.dumps(dict(
            pid=os.getppid(), host=socket.gethostname(), started='earlier')))
    before = snapshot(work)
    resume = ['--resume'] + ([] if start == 'auto' else [str(work / start)])
    with pytest.raises(Exception) as err:
        load_tool('tools/train.py').main([CONFIG, '--work-dir', str(work), *resume,
                                          '--cfg-options', *tiny_options(data_root, 2),
                                          *BATCH4, *extra])
    assert snapshot(work) == before, f'{name}: the work dir changed'
    return f'{type(err.value).__name__}: {err.value}'


@pytest.mark.parametrize('name', list(WORK_DIR_CASES))
def test_work_dir_fault_refused_and_work_dir_byte_identical(name, tmp_path, batch4_run):
    message = run_work_dir_case(name, tmp_path, batch4_run)
    for fragment in WORK_DIR_CASES[name][3]:
        assert fragment in message, f'{name}: {fragment!r} not in {message!r}'


def recording_config(path, out_file):
    path.write_text(f"_base_ = [{osp.join(REPO_ROOT, CONFIG)!r}]\n"
                    "custom_imports = dict(imports=['tests.fault_hooks'], "
                    "allow_failed_imports=False)\n"
                    "custom_hooks = [dict(type='RandomStateHook'), "
                    f"dict(type='RecordSamplesHook', out_file={str(out_file)!r})]\n")
    return str(path)


def recorded(out_file):
    import json
    return [json.loads(line) for line in open(out_file)]


def test_resume_mid_epoch_maps_a_batch_that_divides_the_position(tmp_path, batch4_run, capsys):
    """24 samples trained at batch 4 (iter_6) are 3 batches of 8: the run continues with
    exactly the batches an uninterrupted batch-8 run trains from its 4th batch on (same
    shuffled order, same samples), and every sample of the epoch is trained once."""
    import shutil
    data_root, trained = batch4_run
    work = tmp_path / 'work'
    shutil.copytree(trained, work)
    opts = [*tiny_options(data_root, 1), *BATCH4, 'train_dataloader.batch_size=8']
    next_second()
    load_tool('tools/train.py').main([
        recording_config(tmp_path / 'rec.py', tmp_path / 'resumed.jsonl'), '--work-dir',
        str(work), '--resume', str(work / 'iter_6.pth'), '--cfg-options', *opts])
    log = run_log(work, capsys)
    assert 'batch_size 4 -> 8' in log and 'resuming epoch 1 at batch 3 of' in log, log[-3000:]
    next_second()
    load_tool('tools/train.py').main([
        recording_config(tmp_path / 'ref.py', tmp_path / 'reference.jsonl'), '--work-dir',
        str(tmp_path / 'reference'), '--cfg-options', *opts])
    resumed, reference = recorded(tmp_path / 'resumed.jsonl'), recorded(tmp_path / 'reference.jsonl')
    assert resumed == reference[3:]
    before = torch.load(work / 'iter_6.pth', map_location='cpu', weights_only=False)
    pos = before['meta']['resume_position']
    seen_before = pos['samples']
    epoch1 = [i for e, batch in resumed if e == 0 for i in batch]
    assert len(epoch1) + seen_before == pos['epoch_samples'] == pos['dataset_len']


def test_resume_epoch_end_onto_smaller_dataset_trains_the_next_epoch(tmp_path, batch4_run,
                                                                     capsys):
    """The bug of issue 21: an end-of-epoch checkpoint resumed onto a smaller dataset (or a
    larger batch) trained 0 batches. Now the next epoch is trained whole, at the new size."""
    import shutil
    data_root, trained = batch4_run
    work = tmp_path / 'work'
    shutil.copytree(trained, work)
    first = _iter_of(work)
    old = torch.load(work / (work / 'last_checkpoint').read_text().strip(),
                     map_location='cpu', weights_only=False)['state_dict']
    next_second()
    load_tool('tools/train.py').main([CONFIG, '--work-dir', str(work), '--resume',
                                      '--cfg-options', *tiny_options(data_root, 2), *BATCH4,
                                      'train_dataloader.batch_size=16',
                                      'train_dataloader.dataset.holdout.fraction=0.75'])
    log = run_log(work, capsys)
    assert 'mapped exactly onto dataset_len' in log and 'batch_size 4 -> 16' in log
    ckpt = torch.load(work / (work / 'last_checkpoint').read_text().strip(),
                      map_location='cpu', weights_only=False)
    pos = ckpt['meta']['resume_position']
    assert pos['batch_size'] == 16
    assert ckpt['meta']['iter'] == first + -(-pos['dataset_len'] // 16)   # a whole epoch
    assert any(not torch.equal(old[k], ckpt['state_dict'][k]) for k in old)


def test_copied_work_dir_resumes_its_own_checkpoints(tmp_path, batch4_run, capsys):
    """``last_checkpoint`` is relative; an old absolute one naming another dir is not used."""
    import shutil
    data_root, trained = batch4_run
    assert (trained / 'last_checkpoint').read_text().strip().startswith('iter_')
    work = tmp_path / 'copy'
    shutil.copytree(trained, work)
    other = tmp_path / 'original'
    shutil.copytree(trained, other)
    (work / 'last_checkpoint').write_text(str(other / 'iter_3.pth'))  # absolute, elsewhere
    # a stale lock of a run that died is taken over
    import json
    import socket
    (work / 'train.lock').write_text(json.dumps(dict(pid=_dead_pid(),
                                                     host=socket.gethostname())))
    next_second()
    load_tool('tools/train.py').main([CONFIG, '--work-dir', str(work), '--resume',
                                      '--cfg-options', *tiny_options(data_root, 1), *BATCH4])
    log = run_log(work, capsys)
    assert 'outside the work dir' in log and 'taking over the stale lock' in log
    last = sorted(work.glob('iter_*.pth'), key=lambda p: int(p.stem[5:]))[-1]
    assert f'auto-resuming from {last}' in log
    assert not (work / 'train.lock').exists()


def test_kill_while_writing_best_keeps_previous_best(tmp_path, tiny_h36m_file):
    data_root = osp.dirname(tiny_h36m_file)
    config = tmp_path / 'cfg.py'
    config.write_text(f"_base_ = [{osp.join(REPO_ROOT, CONFIG)!r}]\n"
                      "custom_imports = dict(imports=['tests.fault_hooks'], "
                      "allow_failed_imports=False)\n"
                      "custom_hooks = [dict(type='RandomStateHook'), "
                      "dict(type='FailBestSaveHook', at_epoch=2)]\n")
    work = tmp_path / 'work'
    with pytest.raises(RuntimeError, match='injected failure while writing the best'):
        load_tool('tools/train.py').main([str(config), '--work-dir', str(work),
                                          '--cfg-options', *tiny_options(data_root, 3),
                                          'optim_wrapper.optimizer.lr=3e-3'])
    best = list(work.glob('best_*.pth'))
    assert [p.name for p in best] == ['best_lift_mpjpe_epoch_1.pth'], os.listdir(work)
    assert 'state_dict' in torch.load(best[0], map_location='cpu', weights_only=False)
    assert not list(work.glob('*.part')) and not (work / 'train.lock').exists()


def test_disk_full_names_the_checkpoint_and_leaves_no_part(tmp_path, tiny_h36m_file,
                                                           monkeypatch):
    import errno

    from mmengine.fileio.backends import local_backend

    def full(self, obj, filepath):
        with open(filepath, 'wb') as f:
            f.write(obj[:100])
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(local_backend.LocalBackend, 'put', full)
    work = tmp_path / 'work'
    with pytest.raises(OSError) as err:
        load_tool('tools/train.py').main([CONFIG, '--work-dir', str(work), '--cfg-options',
                                          *tiny_options(osp.dirname(tiny_h36m_file), 1),
                                          'default_hooks.checkpoint.save_best=None'])
    assert f"could not write checkpoint '{work / 'epoch_1.pth'}'" in str(err.value)
    assert 'No space left on device' in str(err.value)
    assert not list(work.glob('*.pth*')) and not (work / 'last_checkpoint').exists()


def test_resume_without_work_dir_says_which_dir(tmp_path, capsys, monkeypatch):
    import argparse

    from dualpose.apis.setup_env import load_config
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(config=osp.join(REPO_ROOT, CONFIG), cfg_options=None,
                              work_dir=None, launcher='none', local_rank=0, resume='auto')
    cfg = load_config(args)
    out = capsys.readouterr().out
    assert ('--resume without --work-dir: using the work dir '
            f'{tmp_path}/work_dirs/dualpose-tiny_synthetic-27f') in out
    assert cfg.work_dir.startswith('./work_dirs')


# ------------------------------------------------------------------------------------------
# Demo cases (issue 21): bad 2D input refused before anything is written; the output folder,
# which holds an earlier run's outputs, is left byte-identical.

def _walk_npz(path, edit=None, **extra):
    from dualpose.keypoints import read_keypoints
    seq = read_keypoints(osp.join(REPO_ROOT, 'demo/samples/synthetic_walking_coco17.json'))
    kpts = np.concatenate([seq.keypoints, seq.scores[..., None]], -1)[:40].copy()
    if edit is not None:
        edit(kpts)
    np.savez(path, keypoints=kpts, image_size=np.asarray(seq.image_size), joint_set='coco17',
             **extra)
    return str(path)


def _one_point(k):
    k[10, :, :2] = 200.0


def _far(k):
    k[5, 3, 0] = 1e30


def _normalised(k):
    k[..., :2] = (k[..., :2] - k[..., :2].min()) / (k[..., :2].max() - k[..., :2].min())


def _object_array(path):
    np.savez(path, keypoints=np.array([dict(x=1)] * 3, dtype=object))
    return str(path)


# name -> (how the input is made, extra demo arguments, expected fragments)
DEMO_CASES = {
    'demo: one joint at 1e30': (lambda p: _walk_npz(p, _far), [], [
        'walk.npz: track 0: 1 keypoints further than 4 image sizes', 'frame 5', 'joint 3']),
    'demo: 17 joints at one point': (lambda p: _walk_npz(p, _one_point), [], [
        'walk.npz: track 0: 1 frames with a degenerate body (all detected joints at one point',
        'frame 10']),
    'demo: 0-1 coordinates given as pixels': (lambda p: _walk_npz(p, _normalised), [], [
        'normalised coordinates given as pixels']),
    'demo: image size 8 px': (_walk_npz, ['--image-size', '8', '8'], [
        'image_size must be (width, height) in pixels, each side 16..32768']),
    'demo: npz holding an object array': (_object_array, [], [
        "walk.npz: array 'keypoints' could not be read", 'not pickled Python objects']),
    'demo: an output name is an existing directory': (_walk_npz, ['mkdir:walk_3d.json'], [
        'walk_3d.json', 'is an existing directory']),
    'demo: stride -1': (_walk_npz, ['--stride', '-1'], ['stride must be an integer >= 1']),
}


def run_demo_case(name, tmp, capsys):
    make, extra, _ = DEMO_CASES[name]
    src = make(tmp / 'walk.npz')
    out = tmp / 'out'
    out.mkdir()
    for suffix in ('_3d.npz', '_3d.json', '_frames.png', '.gif'):
        (out / f'walk{suffix}').write_bytes(b'an earlier run')
    for arg in [a for a in extra if a.startswith('mkdir:')]:
        (out / arg[6:]).unlink()
        (out / arg[6:]).mkdir()
    args = [a for a in extra if not a.startswith('mkdir:')]
    before = snapshot(out)
    code = load_tool('demo/lift_keypoints.py').main(
        [src, '--out-dir', str(out), '--no-progress', *args])
    assert code == 1, f'{name}: exit {code}'
    assert snapshot(out) == before, f'{name}: the output folder changed: {os.listdir(out)}'
    return capsys.readouterr().err.strip()


@pytest.mark.parametrize('name', list(DEMO_CASES))
def test_demo_fault_refused_and_out_dir_byte_identical(name, tmp_path, capsys):
    message = run_demo_case(name, tmp_path, capsys)
    for fragment in DEMO_CASES[name][2]:
        assert fragment in message, f'{name}: {fragment!r} not in {message!r}'


def test_staged_outputs_all_or_nothing(tmp_path, monkeypatch):
    """A rename that fails part-way puts the old set back; a final name that is a directory
    fails before anything moves."""
    from dualpose.utils import fileio
    names = [tmp_path / f'out{i}.bin' for i in range(4)]
    for p in names:
        p.write_bytes(b'old')
    real = fileio.replace_atomic

    def failing(tmp, path, **kw):
        if path.endswith('out2.bin'):
            raise OSError(28, 'No space left on device')
        return real(tmp, path, **kw)

    monkeypatch.setattr(fileio, 'replace_atomic', failing)
    staged = fileio.StagedFiles()
    for p in names:
        with open(staged.path(str(p)), 'wb') as f:
            f.write(b'new')
    with pytest.raises(OSError, match='No space left'):
        staged.commit()
    assert [p.read_bytes() for p in names] == [b'old'] * 4
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in names)
    monkeypatch.setattr(fileio, 'replace_atomic', real)
    (tmp_path / 'out1.bin').unlink()
    (tmp_path / 'out1.bin').mkdir()
    staged = fileio.StagedFiles()
    for p in names:
        with open(staged.path(str(p)), 'wb') as f:
            f.write(b'new')
    with pytest.raises(IsADirectoryError, match='none of the outputs was written'):
        staged.commit()
    assert [p.read_bytes() for p in names if p.is_file()] == [b'old'] * 3


def test_demo_json_is_strict(tmp_path):
    import json
    demo = load_tool('demo/lift_keypoints.py')
    values = demo._rounded(np.array([[1.234567, np.nan], [np.inf, -2.0]]), 2)
    assert values == [[1.23, None], [None, -2.0]]
    assert json.loads(json.dumps(values, allow_nan=False)) == values


def test_model_config_harmless_difference_warns(tmp_path):
    from dualpose.engine.checkpoint import compare_model_cfg
    model = dict(type='PoseLifter', backbone=dict(arch=dict(num_heads=4)),
                 test_cfg=dict(flip_test=True))
    ckpt = dict(meta=dict(model_cfg=dict(model, test_cfg=dict(flip_test=False))))
    with pytest.warns(UserWarning, match='model.test_cfg.flip_test: checkpoint False, config '
                                         'True'):
        compare_model_cfg(model, ckpt, 'c.pth')
    ckpt = dict(meta=dict(model_cfg=dict(model, backbone=dict(arch=dict(num_heads=8)))))
    with pytest.raises(ValueError, match='model.backbone.arch.num_heads: checkpoint 8, config 4'):
        compare_model_cfg(model, ckpt, 'c.pth')


if __name__ == '__main__':  # the table for the docs
    import contextlib
    import io
    import tempfile
    from pathlib import Path

    from dualpose.apis import register_all_modules
    from dualpose.datasets.synthetic import write_synthetic_h36m
    register_all_modules()

    class _Capsys:   # what capsys gives run_demo_case, outside pytest
        def __init__(self):
            self.err = io.StringIO()

        def readouterr(self):
            from types import SimpleNamespace
            return SimpleNamespace(out='', err=self.err.getvalue())

    def row(name, message, left):
        message = ' '.join(message.split())[:300].replace('|', '\\|')
        print(f'| {name} | `{message}` | {left} |')

    with tempfile.TemporaryDirectory() as root, \
            contextlib.redirect_stdout(io.StringIO()) as quiet:
        tiny = osp.join(root, 'h36m_sh_conf_cam_source_final.pkl')
        write_synthetic_h36m(tiny, seed=0, **TINY_SYNTHETIC)
        rows = []
        for i, name in enumerate(CASES):
            case_dir = Path(root) / f'c{i}'
            case_dir.mkdir()
            rows.append((name, run_case(name, case_dir, tiny).replace(root, '<tmp>'),
                         'work dir byte-identical, no checkpoint written'))
        trained = Path(root) / 'batch4'
        load_tool('tools/train.py').main([CONFIG, '--work-dir', str(trained / 'work'),
                                          '--cfg-options', *tiny_options(root, 1), *BATCH4])
        for i, name in enumerate(WORK_DIR_CASES):
            case_dir = Path(root) / f'w{i}'
            case_dir.mkdir()
            msg = run_work_dir_case(name, case_dir, (root, trained / 'work'))
            rows.append((name, msg.replace(root, '<tmp>'),
                         'work dir byte-identical (checkpoints, last_checkpoint, config dump)'))
        for i, name in enumerate(DEMO_CASES):
            case_dir = Path(root) / f'd{i}'
            case_dir.mkdir()
            cap = _Capsys()
            with contextlib.redirect_stderr(cap.err):
                msg = run_demo_case(name, case_dir, cap)
            rows.append((name, msg.replace(root, '<tmp>'),
                         'exit 1; output folder byte-identical'))
    print('| case | message | left on disk |\n|---|---|---|')
    for r in rows:
        row(*r)
