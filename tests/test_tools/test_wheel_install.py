"""The package as a library: build a wheel from a copy of the sources, install it (no
dependencies, nothing downloaded) into a folder of its own, and use the API from outside the
repository with the packaged config, demo checkpoint and sample (about 15 s)."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(
    subprocess.run([sys.executable, '-m', 'pip', '--version'], capture_output=True).returncode,
    reason='pip is not available to this interpreter')

SOURCES = ('setup.py', 'README.md', 'model-index.yml', 'requirements', 'dualpose', 'configs',
           'tools', 'demo')

USE_API = r'''
import json, os, sys
import dualpose
from dualpose.apis import inference_lifting, init_model
from dualpose.keypoints import read_keypoints
from dualpose.utils.resources import DEMO_CHECKPOINT, DEMO_CONFIG, resource_path, resource_root

model = init_model(DEMO_CONFIG, DEMO_CHECKPOINT)   # relative names: found in dualpose/.mim
seq = read_keypoints(resource_path('demo/samples/synthetic_walking_coco17.json'))  # xtcocotools
result = inference_lifting(model, seq.keypoints[:40], image_size=seq.image_size,
                           scores=seq.scores[:40], converter='coco17')
print(json.dumps(dict(package=dualpose.__file__, root=resource_root(),
                      shape=list(result.keypoints_3d.shape))))
'''


def _run(cmd, **kwargs):
    res = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert res.returncode == 0, f'{cmd} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}'
    return res


def test_wheel_installs_and_runs_outside_the_repository(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim', '*.egg-info')
    for name in SOURCES:
        path = osp.join(REPO_ROOT, name)
        if osp.isdir(path):
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copyfile(path, src / name)
    env = dict(os.environ, PIP_NO_CACHE_DIR='1', PIP_DISABLE_PIP_VERSION_CHECK='1',
               PIP_NO_INDEX='1', PYTHONDONTWRITEBYTECODE='1')
    env.pop('PYTHONPATH', None)
    built = _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
                  '-w', str(tmp_path / 'dist'), '.'], cwd=src, env=env)
    assert 'BuildBackendWarning' not in built.stdout + built.stderr
    wheel, = (tmp_path / 'dist').glob('dualpose-*.whl')

    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.split('/')[0] not in ('dualpose', wheel.name.split('-')[0]
                                                            + '-' + wheel.name.split('-')[1]
                                                            + '.dist-info')], \
        'only the dualpose package is shipped'
    for needed in ('dualpose/.mim/configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py',
                   'dualpose/.mim/configs/_base_/default_runtime.py',
                   'dualpose/.mim/tools/train.py', 'dualpose/.mim/demo/lift_keypoints.py',
                   'dualpose/.mim/demo/checkpoints/dualpose-tiny_synthetic-27f.pth',
                   'dualpose/ops/csrc/cpu_attention.cpp'):
        assert needed in names, needed

    site = tmp_path / 'site'
    _run([sys.executable, '-m', 'pip', 'install', '--no-deps', '--target', str(site),
          str(wheel)], env=env)

    # every dependency the wheel declares is met by this environment (what `pip install`
    # without --no-deps would have checked), mmcv-lite or the full mmcv for mmcv
    from importlib.metadata import PackageNotFoundError, distribution, version

    from packaging.requirements import Requirement
    meta, = site.glob('dualpose-*.dist-info')
    requires = [ln.split(':', 1)[1].strip() for ln in (meta / 'METADATA').read_text().splitlines()
                if ln.startswith('Requires-Dist:')]
    core = [Requirement(r) for r in requires if 'extra ==' not in r]
    names_required = {r.name for r in core}
    assert {'torch', 'mmengine', 'xtcocotools', 'numpy'} <= names_required
    assert names_required & {'mmcv', 'mmcv-lite'}
    for req in core:
        try:
            distribution(req.name)
        except PackageNotFoundError:
            pytest.fail(f'{req} is required by the wheel but not installed here')
        assert req.specifier.contains(version(req.name), prereleases=True), \
            f'{req} is not met by the installed {version(req.name)}'

    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    run_env = dict(env, PYTHONPATH=str(site), OMP_NUM_THREADS='1',
                   MPLCONFIGDIR=str(tmp_path / 'mpl'))
    res = _run([sys.executable, '-c', USE_API], cwd=outside, env=run_env)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out['package'].startswith(str(site)), out     # the installed copy, not the clone
    assert out['root'] == str(site / 'dualpose' / '.mim')
    assert out['shape'] == [40, 17, 3]

    # the packaged tools run from there too
    res = _run([sys.executable, str(site / 'dualpose/.mim/tools/train.py'), '--help'],
               cwd=outside, env=run_env)
    assert 'usage' in res.stdout
