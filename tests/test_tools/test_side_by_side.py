"""tools/analysis/side_by_side.py: the rotation of the interleaved rounds, the speed-up as the
median of per-round ratios, the reference built from a code folder (a stand-in written here,
never the public code), and the refusals."""
import textwrap

import pytest

from tests.conftest import load_tool

SYN = 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py'


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis/side_by_side.py')


def test_rounds_rotate_so_every_arm_runs_in_every_position(tool):
    order = []
    steps = {n: (lambda n=n: order.append(n)) for n in 'abc'}
    times = tool.interleave(steps, warmup=1, repeats=3)
    assert order == list('abc' 'bca' 'cab' 'abc')
    assert {n: len(t) for n, t in times.items()} == {'a': 3, 'b': 3, 'c': 3}


def test_speedup_is_the_median_of_per_round_ratios(tool):
    times = {tool.REFERENCE: [1.0, 2.0, 3.0], 'dualpose x': [0.5, 0.5, 2.0]}
    rows = {r['arm']: r for r in tool.summarize_rounds(times, batch_size=2)}
    assert rows['dualpose x']['speedup_vs_reference'] == pytest.approx(2.0)  # of 2, 4, 1.5
    assert rows['dualpose x']['median_ms'] == pytest.approx(500.0)
    assert rows['dualpose x']['clips_per_s'] == pytest.approx(4.0)
    assert rows[tool.REFERENCE]['speedup_vs_reference'] == pytest.approx(1.0)


def _fake_reference(root):
    (root / 'model').mkdir(parents=True)
    (root / 'model' / 'MotionAGFormer.py').write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class MotionAGFormer(nn.Module):
            """A stand-in with the public constructor's keywords."""
            def __init__(self, n_layers, dim_in, dim_feat, dim_rep=512, dim_out=3, **kwargs):
                super().__init__()
                self.kwargs = dict(n_layers=n_layers, dim_feat=dim_feat, **kwargs)
                self.net = nn.Sequential(nn.Linear(dim_in, dim_feat), nn.GELU(),
                                         nn.Linear(dim_feat, dim_out))

            def forward(self, x):
                return self.net(x)
        '''))
    (root / 'configs' / 'h36m').mkdir(parents=True)
    (root / 'configs' / 'h36m' / 'MotionAGFormer-xsmall.yaml').write_text(
        'n_layers: 3\ndim_feat: 8\nn_frames: 27\nlearning_rate: 0.1\n')


def test_runs_both_modes_against_a_reference_folder(tool, tmp_path):
    _fake_reference(tmp_path / 'magf')
    kwargs = tool.reference_kwargs(str(tmp_path / 'magf'), 'xsmall')
    assert kwargs['n_layers'] == 3 and kwargs['dim_feat'] == 8  # the yaml wins
    assert 'learning_rate' not in kwargs  # keys the constructor does not take stay out
    out = tool.main(['--reference-code', str(tmp_path / 'magf'), '--reference-size', 'xsmall',
                     '--config', SYN, '--arms', 'fp32-sdpa', '--repeats', '2', '--warmup', '0',
                     '--threads', '1', '--json', str(tmp_path / 'r.json')])
    assert set(out['results']) == {'infer', 'train'}
    for rows in out['results'].values():
        assert [r['arm'] for r in rows] == [tool.REFERENCE, 'dualpose fp32-sdpa']
        assert all(r['median_ms'] > 0 for r in rows)
    assert 'avx2' in out['header']['cpu_flags'] or 'unknown' in out['header']['cpu_flags']
    assert (tmp_path / 'r.json').exists()


def test_deployed_arms_infer_only(tool, tmp_path):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    _fake_reference(tmp_path / 'magf')
    out = tool.main(['--reference-code', str(tmp_path / 'magf'), '--reference-size', 'xsmall',
                     '--config', SYN, '--arms', 'fp32-sdpa', 'ort-int8', '--repeats', '1',
                     '--warmup', '0', '--threads', '1'])
    assert [r['arm'] for r in out['results']['infer']] == [
        tool.REFERENCE, 'dualpose fp32-sdpa', 'dualpose ort-int8']
    assert [r['arm'] for r in out['results']['train']] == [tool.REFERENCE, 'dualpose fp32-sdpa']


def test_refuses_a_folder_without_the_code_and_unequal_clip_lengths(tool, tmp_path):
    with pytest.raises(FileNotFoundError, match='no model/MotionAGFormer.py'):
        tool.load_reference(str(tmp_path), 'base')
    _fake_reference(tmp_path / 'magf')
    with pytest.raises(SystemExit, match='T = 27 and MotionAGFormer-base T = 243'):
        tool.main(['--reference-code', str(tmp_path / 'magf'), '--reference-size', 'base',
                   '--config', SYN])
