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
    """Ship configs, tools and model-index.yml inside the package (``dualpose/.mim``) for
    non-editable installs, so an installed package can find its configs. An editable install
    reads them from the source tree and copies nothing."""
    if not any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist', 'install', 'build')):
        return
    mim = osp.join(HERE, 'dualpose', '.mim')
    os.makedirs(mim, exist_ok=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        src, dst = osp.join(HERE, name), osp.join(mim, name)
        if osp.isdir(dst):
            shutil.rmtree(dst)
        elif osp.exists(dst):
            os.remove(dst)
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__'))
        elif osp.exists(src):
            shutil.copyfile(src, dst)


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
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs', 'demo')),
    include_package_data=True,
    package_data={'dualpose': ['.mim/model-index.yml', '.mim/configs/**/*', '.mim/tools/**/*',
                            'ops/csrc/*']},  # sources of the optional CUDA op (built on use)
    # mmcv is left out on purpose: mmcv-lite (pure Python) and the full mmcv both provide
    # what dualpose uses; requirements/mminstall.txt names the light one.
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        'optional': read_requirements('optional.txt'),
        'mim': read_requirements('mminstall.txt'),
    },
)
