"""Docs that run as tests: every shell command and Python snippet in README.md and docs/*.md.

Each code block of the docs (fenced or indented) is split into commands (shell) or taken whole
(Python). Every command must appear below, in exactly one of:

* ``RUN``: run, shrunk by documented overrides where the real thing takes long (a tiny model,
  one epoch, the tiny generated data, ``--out``/``--work-dir`` in the test's folder);
* ``HELP``: its script exists and its options parse (``--help``), where running it needs
  data that cannot be here (real Human3.6M, MPI-INF-3DHP), a GPU or a cluster, or hours;
* ``SKIP``: not run, with the reason.

A new or changed command that is in none of them fails ``test_every_snippet_is_classified``,
so a doc change cannot add a snippet that nothing checks. Blocks that are not code (directory
trees, log output, error messages, data layouts) are recognised and left alone.
(About 60 s: one training and one test on tiny data, the demo without animation, the rest in
one process.)
"""
import ast
import glob
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

DOCS = ['README.md'] + sorted(osp.relpath(p, REPO_ROOT)
                              for p in glob.glob(osp.join(REPO_ROOT, 'docs', '*.md')))
SHELL_START = re.compile(r'^(\.venv/bin/|bash |pip |python |source |[A-Z_]+=\S*( |$))')

# ------------------------------------------------------------------ extraction


def code_blocks(text):
    """[(language or '', first line, text)] of fenced and indented code blocks."""
    lines, out, i = text.split('\n'), [], 0
    while i < len(lines):
        m = re.match(r'^\s*```(\w*)', lines[i])
        if m:
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith('```'):
                j += 1
            out.append((m.group(1), i + 2, '\n'.join(lines[i + 1:j])))
            i = j + 1
            continue
        if lines[i].startswith('    ') and lines[i].strip() and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and (lines[j].startswith('    ') or not lines[j].strip()):
                j += 1
            body = lines[i:j]
            while body and not body[-1].strip():
                body.pop()
            out.append(('', i + 1, '\n'.join(b[4:] for b in body)))
            i = j
            continue
        i += 1
    return out


def shell_commands(block):
    """Commands of a shell block: continuation lines joined, comments dropped."""
    out, current = [], ''
    for line in block.split('\n'):
        if line.startswith(' ') and out and not current:  # a synopsis wrapped by indenting
            current = out.pop()
        line = re.sub(r'\s+#.*$', '', line).rstrip() if not line.lstrip().startswith('#') else ''
        if not line and not current:
            continue
        current += ' ' + line.strip()
        if current.endswith('\\'):
            current = current[:-1]
            continue
        out.append(' '.join(current.split()))
        current = ''
    return [c for c in out if c]


def snippets():
    """{key: (where, kind)}: 'shell' commands and 'python' blocks of the docs."""
    found = {}
    for doc in DOCS:
        with open(osp.join(REPO_ROOT, doc)) as f:
            text = f.read()
        for lang, line, block in code_blocks(text):
            first = next((ln for ln in block.split('\n') if ln.strip()), '')
            command = next((ln for ln in block.split('\n')
                            if ln.strip() and not ln.lstrip().startswith('#')), '')
            if lang in ('', 'bash', 'sh', 'shell') and SHELL_START.match(command.lstrip()):
                for cmd in shell_commands(block):
                    found.setdefault(cmd, (f'{doc}:{line}', 'shell'))
            elif lang == 'python' or _is_python(block):
                found.setdefault(f'{doc}:{first.strip()}', (f'{doc}:{line}', 'python', block))
    return found


def _is_python(block):
    try:
        tree = ast.parse(block)
    except SyntaxError:
        return False
    return any(isinstance(n, (ast.Assign, ast.Import, ast.ImportFrom, ast.ClassDef))
               for n in tree.body)

# ------------------------------------------------------------------ what is done with each


TINY_CONFIG = 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py'
DEMO_CKPT = 'demo/checkpoints/dualpose-tiny_synthetic-27f.pth'
B = 'configs/dualpose/h36m/dualpose-b_h36m-243f.py'


def tiny(data_root):
    """The documented override for a short run (docs/configs.md): a tiny model, one epoch,
    T=9, on the tiny generated data."""
    return [f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}', 'seq_len=9',
            'train_dataloader.dataset.holdout.fraction=0.25',
            'val_dataloader.dataset.holdout.fraction=0.25',
            'model.backbone.arch.embed_dims=16', 'model.backbone.arch.depth=1',
            'model.head.in_channels=16', 'model.head.hidden_dims=32', 'train_cfg.max_epochs=1']


# shell commands run (shrunk): command -> function(tmp, data_root) giving the argv to run
RUN = {
    # configs.md: the override example itself, plus the tiny data and model
    '.venv/bin/python tools/train.py CONFIG --cfg-options train_cfg.max_epochs=2 '
    'train_dataloader.batch_size=8 model.backbone.arch.depth=2 '
    'train_dataloader.dataset.pipeline.1.prob=0.0':
        lambda tmp, d: ['tools/train.py', TINY_CONFIG, '--work-dir', f'{tmp}/train',
                        '--cfg-options', 'train_dataloader.batch_size=8',
                        'train_dataloader.dataset.pipeline.1.prob=0.0', *tiny(d)],
    '.venv/bin/python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump preds.pkl]':
        lambda tmp, d: ['tools/test.py', TINY_CONFIG, DEMO_CKPT, '--work-dir', f'{tmp}/test',
                        '--dump', f'{tmp}/test/preds.pkl', '--cfg-options',
                        f'test_dataloader.dataset.data_root={d}'],
    '.venv/bin/python demo/lift_keypoints.py demo/samples/synthetic_walking_coco17.json '
    '--fps 50':
        lambda tmp, d: ['demo/lift_keypoints.py', 'demo/samples/synthetic_walking_coco17.json',
                        '--fps', '50', '--out-dir', f'{tmp}/demo', '--no-anim', '--no-progress'],
    '.venv/bin/python tools/dataset_converters/make_synthetic_h36m.py --seed 1 '
    '--frames-per-video 300 --force':
        lambda tmp, d: ['tools/dataset_converters/make_synthetic_h36m.py', '--seed', '1',
                        '--frames-per-video', '30', '--recordings', '1', '--test-recordings',
                        '1', '--families', 'locomotion', '--force', '--out', f'{tmp}/s.pkl'],
    # inference.md: every person of the two-person sample, with the camera's intrinsics
    '.venv/bin/python demo/lift_keypoints.py demo/samples/synthetic_two_people_coco17.json '
    '--fps 50 --focal 1145.05 1143.78 --principal 512.54 515.45':
        lambda tmp, d: ['demo/lift_keypoints.py', 'demo/samples/synthetic_two_people_coco17.json',
                        '--fps', '50', '--focal', '1145.05', '1143.78', '--principal', '512.54',
                        '515.45', '--out-dir', f'{tmp}/two', '--no-anim', '--no-progress'],
    # inference.md: live lifting of a file, on the shipped sample with the causal checkpoint
    '.venv/bin/python demo/lift_keypoints.py FILE --online --config '
    'configs/dualpose/synthetic/dualpose-tiny-causal_synthetic-27f.py --checkpoint '
    'demo/checkpoints/dualpose-tiny-causal_synthetic-27f.pth':
        lambda tmp, d: ['demo/lift_keypoints.py', 'demo/samples/synthetic_walking_coco17.json',
                        '--online', '--config',
                        'configs/dualpose/synthetic/dualpose-tiny-causal_synthetic-27f.py',
                        '--checkpoint', 'demo/checkpoints/dualpose-tiny-causal_synthetic-27f.pth',
                        '--out-dir', f'{tmp}/online', '--no-anim', '--no-progress'],
    # deployment.md: the export of the shipped model
    '.venv/bin/python tools/deployment/export_onnx.py '
    'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py '
    'demo/checkpoints/dualpose-tiny_synthetic-27f.pth --out work_dirs/onnx/dualpose-tiny.onnx':
        lambda tmp, d: ['tools/deployment/export_onnx.py', TINY_CONFIG, DEMO_CKPT, '--out',
                        f'{tmp}/onnx/dualpose-tiny.onnx'],
    '.venv/bin/python tools/misc/print_config.py CONFIG [--cfg-options ...]':
        lambda tmp, d: ['tools/misc/print_config.py', TINY_CONFIG],
    '.venv/bin/python tools/analysis/get_flops.py CONFIG --seq-len 81 --json flops.json':
        lambda tmp, d: ['tools/analysis/get_flops.py', TINY_CONFIG, '--seq-len', '81',
                        '--json', f'{tmp}/flops.json'],
}
# shell commands whose script is checked with --help (why not run: the value)
_REAL_H36M = 'needs the real Human3.6M files (not downloadable here)'
HELP = {
    '.venv/bin/python tools/train.py configs/dualpose/h36m/dualpose-b_h36m-243f.py': _REAL_H36M,
    '.venv/bin/python tools/test.py configs/dualpose/h36m/dualpose-b_h36m-243f.py '
    'work_dirs/dualpose-b_h36m-243f/epoch_60.pth': _REAL_H36M,
    '.venv/bin/python tools/train.py configs/dualpose_pretrain.py': _REAL_H36M,
    '.venv/bin/python tools/train.py configs/dualpose_finetune.py': _REAL_H36M,
    '.venv/bin/python tools/test.py configs/dualpose_finetune.py '
    'work_dirs/dualpose_finetune/epoch_60.pth': _REAL_H36M,
    '.venv/bin/python tools/analysis/ablation.py --quick': '18.9 min measured',
    '.venv/bin/python tools/analysis/ablation.py': '89 min measured',
    '.venv/bin/python tools/analysis/ablation.py --mode long': 'about 15.6 h estimated',
    'OMP_NUM_THREADS=2 .venv/bin/python tools/analysis/ablation.py --quick': '18.9 min measured',
    'OMP_NUM_THREADS=2 .venv/bin/python tools/analysis/ablation.py': '89 min measured',
    'OMP_NUM_THREADS=2 .venv/bin/python tools/analysis/ablation.py --mode long': 'about 15.6 h estimated',
    '.venv/bin/python tools/misc/browse_dataset.py CONFIG [--split test] [--num 4]':
        'tested in tests/test_visualization (pictures of the tiny data)',
    '.venv/bin/python tools/analysis/get_flops.py configs/dualpose/h36m/dualpose-b_h36m-243f.py':
        'the same tool runs above on the tiny config; the B model at T=243 takes longer',
    '.venv/bin/python tools/misc/plot_synthetic_samples.py --out samples.png':
        'reads the full synthetic data (data/h36m_synthetic)',
    '.venv/bin/python tools/dataset_converters/make_synthetic_h36m.py':
        'writes the 70 MB default file into data/; the same tool runs above, shrunk',
    '.venv/bin/python tools/train.py configs/dualpose/synthetic/'
    'dualpose-tiny-crl-pretrain_synthetic-27f.py':
        'minutes; tests/test_tools/test_pretrain_finetune.py runs it shrunk',
    '.venv/bin/python tools/train.py configs/dualpose/synthetic/'
    'dualpose-tiny-crl-finetune_synthetic-27f.py':
        'needs the pre-training\'s checkpoint; tests/test_tools/test_pretrain_finetune.py',
    '.venv/bin/python tools/analysis/benchmark.py CONFIG [--batch-size 1] [--seq-len T] '
    '[--modes infer train] [--precision fp32 bf16] [--threads 2] [--device cpu|cuda] '
    '[--warmup 2] [--repeats 5] [--compile] [--attn-impl sdpa|math|fused] '
    '[--compare-attn A B] [--profile 20] [--json out.json] [--cfg-options k=v ...]':
        'a usage synopsis; tests/test_tools/test_analysis_tools.py runs the tool',
    '.venv/bin/python tools/dataset_converters/make_pose2d_npz.py vp3d '
    'data/h36m_vp3d/data_2d_h36m_cpn_ft_h36m_dbb.npz data/extra/cpn_2d.npz '
    '--subjects S1 S5 S6 S7 S8': 'needs VideoPose3D\'s Human3.6M files',
    '.venv/bin/python tools/dataset_converters/make_pose2d_npz.py motionbert '
    'data/h36m/h36m_sh_conf_cam_source_final.pkl data/extra/sh_2d.npz --split train':
        _REAL_H36M,
    '.venv/bin/python tools/dataset_converters/make_pose2d_npz.py mpi '
    'data/mpi_inf_3dhp/data_train_3dhp.npz data/extra/mpi_2d.npz --split train':
        'needs the MPI-INF-3DHP files',
    '.venv/bin/python tools/train.py CONFIG [--work-dir DIR] [--amp] [--resume [CKPT]] '
    '[--cfg-options train_cfg.max_epochs=10 train_dataloader.batch_size=8]':
        'a usage synopsis; the training above runs',
    '.venv/bin/python demo/lift_keypoints.py my_video_keypoints.json --image-size 1920 1080 '
    '--fps 30': 'a file of the reader\'s own; the demo runs above on the sample',
    '.venv/bin/python demo/lift_keypoints.py keypoints.json --config '
    'configs/dualpose/h36m/dualpose-b_h36m-243f.py --checkpoint '
    'work_dirs/dualpose-b_h36m-243f/epoch_60.pth --image-size 1920 1080':
        'needs a model trained on real Human3.6M',
    '.venv/bin/python tools/train.py configs/dualpose/synthetic/'
    'dualpose-tiny-traj_synthetic-27f.py':
        'about 20 min; tests/test_apis/test_camera_people.py trains the head shrunk',
    '.venv/bin/python tools/test.py configs/dualpose/synthetic/'
    'dualpose-tiny-traj_synthetic-27f.py demo/checkpoints/dualpose-tiny-traj_synthetic-27f.pth':
        'the full synthetic test split with camera-space keys (a regenerated file); '
        'tests/test_apis/test_camera_people.py scores the metric on tiny data',
    '.venv/bin/python tools/analysis/smoothing_study.py --every 12':
        'lifts 12 whole test videos of the full synthetic data; '
        'tests/test_apis/test_camera_people.py tests the filter',
    '.venv/bin/python tools/train.py CONFIG --resume':
        'resume: tests/test_engine/test_crash_resume.py',
    '.venv/bin/python tools/train.py CONFIG --resume work_dirs/x/epoch_12.pth':
        'resume: tests/test_engine/test_crash_resume.py',
    '.venv/bin/python tools/train.py CONFIG --deterministic [--seed 0]':
        'tests/test_tools/test_train_test.py trains deterministically',
    '.venv/bin/python tools/deployment/export_onnx.py '
    'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py '
    'demo/checkpoints/dualpose-tiny_synthetic-27f.pth --int8 '
    '--out work_dirs/onnx/dualpose-tiny-int8.onnx':
        'the same export runs above in fp32; tests/test_deploy/test_onnx_export.py runs --int8',
    '.venv/bin/python demo/lift_keypoints.py demo/samples/synthetic_walking_coco17.json '
    '--fps 50 --backend onnxruntime':
        'an export of about 20 s more than the demo above; '
        'tests/test_deploy/test_backends.py runs it against torch',
    '.venv/bin/python tools/test.py configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py '
    'demo/checkpoints/dualpose-tiny_synthetic-27f.pth --backend onnxruntime '
    '--onnx-file work_dirs/onnx/dualpose-tiny.onnx':
        'needs the export above and the full synthetic test split; '
        'tests/test_deploy/test_backends.py compares its metrics with torch on tiny data',
    '.venv/bin/python tools/analysis/benchmark.py '
    'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py --modes infer --paths all '
    '--threads 2 --batch-size 1 --warmup 3 --repeats 20 --json work_dirs/benchmark_paths.json':
        'minutes, and a timing wants a quiet machine; tests/test_deploy/test_backends.py runs '
        'every path shrunk',
    '.venv/bin/python tools/deployment/precision_study.py --threads 2':
        'six test runs over the full synthetic split; tests/test_deploy/test_backends.py runs '
        'it on a few clips',
    # action_recognition.md
    '.venv/bin/python tools/train.py configs/dualpose/ntu/dualpose-b-action_ntu60-xsub-243f.py':
        'needs the NTU RGB+D skeleton files (not downloadable here)',
    '.venv/bin/python tools/test.py configs/dualpose/ntu/dualpose-b-action_ntu60-xview-243f.py '
    'CHECKPOINT': 'needs the NTU RGB+D skeleton files and a trained model',
    '.venv/bin/python tools/train.py configs/dualpose/synthetic/'
    'dualpose-tiny-action_synthetic-27f.py':
        'about 3.5 min; tests/test_tools/test_action_study.py trains it shrunk',
    '.venv/bin/python tools/train.py configs/dualpose/synthetic/'
    'dualpose-tiny-crl-action_synthetic-27f.py':
        'needs the pre-training\'s checkpoint; tests/test_tools/test_action_study.py',
    '.venv/bin/python tools/analysis/action_study.py': 'about 30 min estimated from measured steps',
    '.venv/bin/python tools/analysis/action_study.py --smoke':
        'tests/test_tools/test_action_study.py runs it on tiny data with recordings long '
        'enough for its clips',
}
for _cmd in [ln for ln in '''
.venv/bin/python tools/analysis/benchmark.py $B --threads 2 --batch-size 1 --modes infer --warmup 2 --repeats 10 --compare-attn sdpa fused
.venv/bin/python tools/analysis/benchmark.py $B --threads 2 --batch-size 1 --modes train --warmup 1 --repeats 6 --compare-attn sdpa fused
.venv/bin/python tools/analysis/benchmark.py $B --threads 2 --batch-size 1 --modes infer --warmup 2 --repeats 9 --attn-impl fused --profile 30
.venv/bin/python tools/analysis/benchmark.py $B --threads 2 --batch-size 1 --modes train --warmup 1 --repeats 4 --attn-impl fused --profile 30
.venv/bin/python tools/analysis/benchmark.py $B --threads 2 --batch-size 4 --modes train --warmup 1 --repeats 3 --attn-impl fused
.venv/bin/python tools/analysis/benchmark.py $B --threads 2 --batch-size 1 --modes infer --precision bf16 --warmup 1 --repeats 2 --attn-impl fused
.venv/bin/python tools/analysis/benchmark.py $B --threads 2 --batch-size 1 --modes infer --warmup 2 --repeats 9
.venv/bin/python tools/analysis/benchmark.py $B --threads 2 --batch-size 1 --modes infer --warmup 2 --repeats 9 --attn-impl fused
'''.split('\n') if ln]:
    HELP[_cmd] = 'the B model benchmark behind docs/benchmark.md: minutes per line'

SKIP = {
    'my_detector | .venv/bin/python demo/lift_keypoints.py - --image-size 1280 720 --joints '
    'coco17 --config configs/dualpose/synthetic/dualpose-tiny-causal_synthetic-27f.py '
    '--checkpoint demo/checkpoints/dualpose-tiny-causal_synthetic-27f.pth':
        'needs a live detector on standard input; tests/test_apis/test_stream.py pipes JSON '
        'lines into it',
    'bash tools/quickstart.sh': 'the whole quickstart: install, pre-training and fine-tuning, '
                                'about 12 min',
    '.venv/bin/python -m pytest -q tests': 'this test suite itself',
    '.venv/bin/python tools/analysis/causal_study.py --seeds 0 1 2 --out docs/results/causal.json':
        'nine trainings, about 30 min; tests/test_tools/test_causal_study.py runs it tiny',
    'bash tools/install.sh': 'CI runs it (.ci/run) before this suite',
    'pip install .': 'tests/test_tools/test_wheel_install.py builds and installs the wheel',
    'pip install -e .': 'tools/install.sh installs editable (CI)',
    'python -m dualpose.utils.resources':
        'prints resource_root(), which tests/test_tools/test_wheel_install.py checks in a wheel',
    'python $(python -m dualpose.utils.resources)/tools/train.py CONFIG ...':
        'an installed wheel\'s path; tests/test_tools/test_wheel_install.py runs it',
    'python $(python -m dualpose.utils.resources)/demo/lift_keypoints.py keypoints.json '
    '--fps 30': 'an installed wheel\'s path; tests/test_tools/test_wheel_install.py',
    'B=configs/dualpose/h36m/dualpose-b_h36m-243f.py': 'a shell variable for the lines below',
    'bash tools/analysis/cuda_compile_check.sh [ARCH]': 'installs nvcc (downloads), minutes',
    'bash tools/analysis/gpu_check.sh [CONFIG] [OUT_DIR]': 'needs a GPU',
    'bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]':
        'tests/test_engine/test_distributed.py runs it with 2 CPU processes',
    'NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 bash tools/dist_train.sh CONFIG 8 [...]':
        'two machines',
    'bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]':
        'tests/test_engine/test_distributed.py',
    'GPUS=16 GPUS_PER_NODE=8 bash tools/slurm_train.sh PARTITION JOB CONFIG [WORK_DIR] [...]':
        'a Slurm cluster (usage without arguments: test_launchers_print_usage)',
    'GPUS=8 bash tools/slurm_test.sh PARTITION JOB CONFIG CHECKPOINT [...]': 'a Slurm cluster',
    '.venv/bin/pip install coverage': 'downloads',
    '.venv/bin/python -m coverage run --source dualpose -m pytest -q tests': 'the suite again',
    '.venv/bin/python -m coverage report': 'needs the coverage run',
}

# Python blocks: 'exec' (run, in one process, from the repository root), 'config' (a config
# fragment: must parse; run ones are read by the config loader), or a reason not to run
PYTHON = {
    'docs/benchmark.md:from dualpose.apis.complexity import count_macs': 'exec',
    'docs/getting_started.md:from dualpose.apis import init_model': 'exec',
    'docs/inference.md:from dualpose.apis import init_model, inference_lifting': 'exec',
    'docs/inference.md:from dualpose.apis import inference_people, init_model': 'exec',
    'docs/adding_components.md:# my_project/my_modules.py': 'files',
    'docs/adding_components.md:model = dict(backbone=dict(gcn_stream=dict(_delete_=True, '
    "type='MyTemporalStream', k=5)))": 'config',
    "docs/configs.md:# configs/dualpose/h36m/dualpose-l_h36m-243f.py": 'config',
    'docs/inference.md:# the runner keeps RandomStateHook (exact resume) next to these: no need '
    'to repeat it': 'config',
    "docs/pretraining.md:model = dict(backbone=dict(init_cfg=dict(": 'config',
    "docs/action_recognition.md:model = dict(backbone=dict(init_cfg=dict(type='Pretrained', "
    "checkpoint=PATH, prefix='backbone.')))": 'config',
    # any other value: the reason it is only compiled, not run
    'docs/deployment.md:from dualpose.apis import init_model, inference_lifting':
        '`keypoints` is the reader\'s; tests/test_deploy/test_backends.py runs the same calls',
    'docs/inference.md:from dualpose.apis import LiftingStream, init_model':
        '`frames` is the reader\'s detector output (tests/test_apis/test_stream.py pushes frames)',
}


# ------------------------------------------------------------------ tests


def test_every_snippet_is_classified():
    found = snippets()
    unknown = []
    for key, (where, kind, *_) in found.items():
        known = PYTHON if kind == 'python' else {**RUN, **HELP, **SKIP}
        if key not in known:
            unknown.append(f'{where}: {key}')
    assert not unknown, ('doc snippets that no test runs or skips (add each to RUN, HELP, '
                         'SKIP or PYTHON in tests/test_docs.py):\n' + '\n'.join(unknown))
    stale = [k for k in [*RUN, *HELP, *SKIP, *PYTHON] if k not in found]
    assert not stale, f'entries for snippets no longer in the docs: {stale}'
    both = set(RUN) & set(HELP) | set(RUN) & set(SKIP) | set(HELP) & set(SKIP)
    assert not both


def _env(tmp_path):
    return dict(os.environ, MPLCONFIGDIR=str(tmp_path / 'mpl'), OMP_NUM_THREADS='1',
                PYTHONPATH=REPO_ROOT)


@pytest.mark.parametrize('command', sorted(RUN))
def test_documented_command_runs(command, tmp_path, tiny_h36m_file):
    argv = RUN[command](str(tmp_path), osp.dirname(tiny_h36m_file))
    res = subprocess.run([sys.executable, *argv], cwd=REPO_ROOT, env=_env(tmp_path),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f'{argv}\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}'
    out = res.stdout + res.stderr
    if argv[0] == 'tools/train.py':   # the quiet console: a short header, no dumps
        head = out.split('Epoch(train)')[0]
        assert 'System environment' not in head and 'Config:' not in head
        assert len(head.splitlines()) < 20, head
        assert 'is not a meta file' not in out and 'FileClient' not in out


def test_documented_scripts_parse_their_options(capsys, monkeypatch):
    """Every script a HELP command names answers --help (in this process: cheap)."""
    import runpy
    scripts = sorted({next(a for a in cmd.split() if a.endswith('.py')) for cmd in HELP})
    failed = []
    for script in scripts:
        monkeypatch.setattr(sys, 'argv', [script, '--help'])
        try:
            runpy.run_path(osp.join(REPO_ROOT, script), run_name='__main__')
            failed.append(f'{script}: --help did not exit')
        except SystemExit as err:
            if err.code not in (0, None):
                failed.append(f'{script}: exit {err.code}')
        out = capsys.readouterr().out
        if 'usage' not in out.lower():
            failed.append(f'{script}: no usage text')
    assert not failed, failed


def test_launchers_print_usage():
    for script in ('dist_train.sh', 'dist_test.sh', 'slurm_train.sh', 'slurm_test.sh'):
        res = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', script)],
                             capture_output=True, text=True)
        assert res.returncode == 2 and res.stderr.startswith('usage:'), (script, res.stderr)
        assert 'Traceback' not in res.stderr and 'unbound' not in res.stderr


def test_python_snippets(tmp_path, monkeypatch):
    """The Python blocks: 'exec' ones run from the repository root in one process; config
    fragments parse; the adding_components example's two files are written and loaded."""
    monkeypatch.chdir(REPO_ROOT)
    found = snippets()
    for key, action in PYTHON.items():
        where, _, block = found[key]
        if action == 'exec':
            exec(compile(block, where, 'exec'), {'__name__': '__doc_snippet__'})
        elif action not in ('files', ):  # a config fragment, or a reason not to run it
            compile(block, where, 'exec')
        elif action == 'files':  # '# path' comment lines start each file
            files, name = {}, None
            for line in block.split('\n'):
                m = re.match(r'^# (\S+\.py)$', line)
                if m:
                    name = m.group(1)
                    files[name] = ''
                elif name:
                    files[name] += line + '\n'
            for name, text in files.items():
                path = tmp_path / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text.replace("['configs/", f"['{REPO_ROOT}/configs/"))
            monkeypatch.syspath_prepend(str(tmp_path))
            from dualpose.utils.config import read_config
            cfg = read_config(str(tmp_path / 'my_config.py'))  # imports my_project.my_modules
            from dualpose.registry import MODELS
            assert MODELS.get('MyLoss') is not None
            assert any(d.get('type') == 'MyLoss' for d in cfg.model.head.loss)


# ------------------------------------------------------------------ documented numbers

DEMO_NUMBERS = [  # (doc, regular expression of the number, metric key)
    ('README.md', r'MPJPE \*\*([\d.]+)\*\* / P-MPJPE', 'lift/mpjpe'),
    ('README.md', r'P-MPJPE \*\*([\d.]+)\*\* mm, exact 2D', 'lift/p_mpjpe'),
    ('README.md', r'\(synthetic\s+test\s+MPJPE\s+([\d.]+)\s+mm;\s+above\)', 'lift/mpjpe'),
    ('docs/inference.md', r'it scores MPJPE ([\d.]+) mm', 'lift/mpjpe'),
    ('docs/inference.md', r'mm, P-MPJPE ([\d.]+) mm', 'lift/p_mpjpe'),
    ('docs/benchmark.md', r'MPJPE ([\d.]+) mm with `sdpa`', 'lift/mpjpe'),
] + [('README.md', rf'{name}\s+([\d.]+)[,)]', f'lift/mpjpe/{name}')
     for name in ('Floor', 'Jump', 'Kick', 'Locomotion', 'Posture', 'UpperBody')]


@pytest.mark.slow
def test_documented_demo_checkpoint_numbers(tmp_path):
    """The demo checkpoint's documented test scores come from the command that gives them:
    the default synthetic data (seed 0) and tools/test.py (about 60 s on 2 cores)."""
    data = tmp_path / 'h36m_synthetic'
    env = _env(tmp_path)
    env['OMP_NUM_THREADS'] = '2'
    subprocess.run([sys.executable, 'tools/dataset_converters/make_synthetic_h36m.py', '--out',
                    str(data / 'h36m_sh_conf_cam_source_final.pkl')], cwd=REPO_ROOT, env=env,
                   check=True, capture_output=True)
    res = subprocess.run([sys.executable, 'tools/test.py', TINY_CONFIG, DEMO_CKPT, '--work-dir',
                          str(tmp_path / 'work'), '--cfg-options',
                          f'test_dataloader.dataset.data_root={data}'], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    import json
    metrics_file, = glob.glob(str(tmp_path / 'work' / '*' / 'test_metrics.json'))
    with open(metrics_file) as f:
        metrics = json.load(f)
    wrong = []
    for doc, pattern, key in DEMO_NUMBERS:
        with open(osp.join(REPO_ROOT, doc)) as f:
            m = re.search(pattern.replace(' ', r'\s+'), f.read())  # across line breaks
        assert m, f'{doc}: no {pattern!r}'
        written = m.group(1).rstrip('.')
        places = len(written.split('.')[1]) if '.' in written else 0
        # half a unit of the last place written, and at least 0.006 mm (another CPU sums
        # in another order)
        if abs(float(written) - metrics[key]) > max(0.6 * 10 ** -places, 0.006):
            wrong.append(f'{doc}: {written} for {key}, the run gives {metrics[key]:.4f}')
    assert not wrong, wrong
