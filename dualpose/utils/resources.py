"""Where the configs, tools and demo files are, in a clone or in an installed package.

A clone (or an editable install, ``pip install -e .``) keeps ``configs/``, ``tools/`` and
``demo/`` next to the ``dualpose`` package; a wheel (``pip install .``, ``pip install
dualpose``) ships copies of them inside the package, in ``dualpose/.mim/``::

    from dualpose.utils.resources import resource_path
    resource_path('configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py')
    resource_path('demo/checkpoints/dualpose-tiny_synthetic-27f.pth')   # the demo model
    resource_path('tools/train.py')

From a shell: ``python -m dualpose.utils.resources`` prints the folder.
"""
import os.path as osp

__all__ = ['resource_root', 'resource_path', 'DEMO_CONFIG', 'DEMO_CHECKPOINT']

DEMO_CONFIG = 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py'
DEMO_CHECKPOINT = 'demo/checkpoints/dualpose-tiny_synthetic-27f.pth'

_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def resource_root() -> str:
    """The folder holding ``configs/``, ``tools/``, ``demo/`` and ``model-index.yml``: the
    source tree when the package runs from one, else the installed ``dualpose/.mim``."""
    source = osp.dirname(_PACKAGE)
    if osp.isdir(osp.join(source, 'configs', '_base_')) and \
            osp.isfile(osp.join(source, 'setup.py')):
        return source
    mim = osp.join(_PACKAGE, '.mim')
    if osp.isdir(osp.join(mim, 'configs')):
        return mim
    raise FileNotFoundError(
        f'neither a source tree ({source}) nor the packaged files ({mim}) hold dualpose\'s '
        'configs; reinstall with `pip install .` from a clone')


def resource_path(relative: str) -> str:
    """``relative`` (e.g. ``'configs/...py'``, ``'demo/checkpoints/...pth'``) under
    :func:`resource_root`; raises ``FileNotFoundError`` naming both places looked at."""
    path = osp.join(resource_root(), relative)
    if not osp.exists(path):
        raise FileNotFoundError(f'{relative!r} is not among dualpose\'s files ({path} does not '
                                'exist)')
    return path


if __name__ == '__main__':
    print(resource_root())
