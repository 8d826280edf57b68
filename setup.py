import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    """Requirement lines of requirements/<name>.txt (comments dropped)."""
    with open(osp.join(osp.dirname(__file__), 'requirements', name)) as f:
        return [ln.split('#')[0].strip() for ln in f if ln.split('#')[0].strip()]


def add_mim_extension():
    """Ship configs, tools, the demo (script, samples, checkpoint) and model-index.yml inside
    the package (``dualpose/.mim``) for non-editable installs, so an installed package finds
    them (``dualpose.utils.resources``). An editable install reads them from the source tree
    and copies nothing."""
    if not any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist', 'install', 'build')):
        return
    mim = osp.join(HERE, 'dualpose', '.mim')
    os.makedirs(mim, exist_ok=True)
    for name in ('configs', 'tools', 'demo', 'model-index.yml'):
        src, dst = osp.join(HERE, name), osp.join(mim, name)
        if osp.isdir(dst):
            shutil.rmtree(dst)
        elif osp.exists(dst):
            os.remove(dst)
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        elif osp.exists(src):
            shutil.copyfile(src, dst)


def mmcv_requirement():
    """mmcv-lite (pure Python: everything dualpose uses), or the full mmcv when it is installed
    already or ``DUALPOSE_MMCV=mmcv`` is set: both install the ``mmcv`` module, so requiring
    mmcv-lite next to a full mmcv would overwrite it. (With pip's build isolation the installed
    packages are not visible here: set DUALPOSE_MMCV=mmcv, or use --no-build-isolation.)"""
    spec = '>=2.0.0,<2.3.0'
    choice = os.environ.get('DUALPOSE_MMCV', '').strip()
    if choice not in ('', 'mmcv', 'mmcv-lite'):
        raise SystemExit(f"DUALPOSE_MMCV must be 'mmcv' or 'mmcv-lite', got {choice!r}")
    if not choice:
        try:
            from importlib.metadata import PackageNotFoundError, distribution
            try:
                distribution('mmcv')
                choice = 'mmcv'
            except PackageNotFoundError:
                choice = 'mmcv-lite'
        except ImportError:  # Python < 3.8
            choice = 'mmcv-lite'
    return choice + spec


def get_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'dualpose', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


add_mim_extension()
setup(
    name='dualpose',
    version=get_version(),
    description='Monocular 3D human pose estimation by lifting 2D keypoint sequences with a '
                'dual-stream Transformer-GCN model and contextualized representation '
                'pre-training (OpenMMLab style)',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    # the package only: tests/ and projects/ are not shipped (a top-level ``tests`` package
    # would shadow the user's own); dualpose.ops.csrc holds the C++/CUDA sources of the fused
    # attention (built on first use), listed as a package so setuptools ships them quietly
    packages=find_packages(include=('dualpose', 'dualpose.*')) + ['dualpose.ops.csrc'],
    include_package_data=True,
    package_data={'dualpose': ['.mim/model-index.yml', '.mim/configs/**/*', '.mim/tools/**/*',
                               '.mim/demo/**/*'],
                  'dualpose.ops.csrc': ['*.cpp', '*.cu']},
    install_requires=read_requirements('runtime.txt') + [mmcv_requirement()],
    extras_require={
        'tests': read_requirements('tests.txt'),
        'optional': read_requirements('optional.txt'),
        'mim': read_requirements('mminstall.txt'),
    },
)
