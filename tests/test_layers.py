"""The package's layers point down: each folder of ``dualpose/`` imports only folders of its own
layer or below, and no two folders import each other round a circle.

Every ``import`` in every module counts, including those inside functions (lazy imports
still tie the code together). Lowest layer first (docs: DESIGN.md, "Layers")::

    registry, structures, version -> utils, codecs -> ops
        -> models, datasets, evaluation, keypoints -> engine, visualization -> apis
"""
import ast
import os
import os.path as osp
from collections import defaultdict

import pytest

PACKAGE = 'dualpose'
ROOT = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), PACKAGE)
LAYERS = (
    ('registry', 'structures', 'version'),
    ('utils', 'codecs'),
    ('ops', ),
    ('models', 'datasets', 'evaluation', 'keypoints'),
    ('engine', 'visualization', 'deploy'),
    ('apis', ),
)
LEVEL = {folder: i for i, folders in enumerate(LAYERS) for folder in folders}
# ``dualpose/__init__.py`` applies the dependency fixes of utils/compat.py at import
ROOT_MODULE_LEVEL = LEVEL['utils']


def module_files(root=ROOT):
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(('.', '__pycache__')))
        for name in sorted(files):
            if name.endswith('.py'):
                yield osp.join(folder, name)


def module_name(path, root=ROOT):
    rel = osp.splitext(osp.relpath(path, osp.dirname(root)))[0].split(os.sep)
    return rel[:-1] if rel[-1] == '__init__' else rel


def imported_modules(path, root=ROOT):
    """(line, dotted name) of every module ``path`` imports, relative imports resolved;
    ``from a import b`` yields ``a.b`` (b may be a submodule)."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    package = module_name(path, root)
    if not path.endswith('__init__.py'):
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                if node.level > len(package):
                    raise ValueError(f'{path}:{node.lineno}: relative import above the package')
                base = '.'.join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            if base == PACKAGE or (node.level and not node.module):
                for alias in node.names:
                    yield node.lineno, f'{base}.{alias.name}'
            else:
                yield node.lineno, base


def folder_of(dotted):
    """The top folder (or root module) of ``dualpose`` that ``dotted`` lies in, or None for
    modules outside the package; ``''`` for the package root itself."""
    parts = dotted.split('.')
    if parts[0] != PACKAGE:
        return None
    return parts[1] if len(parts) > 1 else ''


def level_of(folder, where):
    if folder == '':
        return ROOT_MODULE_LEVEL
    if folder not in LEVEL:
        raise AssertionError(f'{where}: dualpose.{folder} is in no layer; add it to LAYERS in '
                             'tests/test_layers.py (and to DESIGN.md)')
    return LEVEL[folder]


def import_edges(root=ROOT):
    """[(file, line, importing folder, imported module, imported folder)] within dualpose."""
    edges = []
    for path in module_files(root):
        src = folder_of('.'.join(module_name(path, root)))
        for line, target in imported_modules(path, root):
            dst = folder_of(target)
            if dst is not None:
                edges.append((osp.relpath(path, osp.dirname(root)), line, src, target, dst))
    return edges


def upward_imports(edges):
    bad = []
    for path, line, src, target, dst in edges:
        where = f'{path}:{line}'
        if src != dst and level_of(dst, where) > level_of(src, where):
            bad.append(f'{where}: dualpose.{src or "__init__"} (layer '
                       f'{level_of(src, where)}) imports {target} (layer {level_of(dst, where)})')
    return bad


def folder_cycles(edges):
    """Circles in the graph of folders; each as the list of folders and one import per step."""
    graph = defaultdict(dict)
    for path, line, src, target, dst in edges:
        if src != dst:
            graph[src].setdefault(dst, f'{path}:{line} imports {target}')
    cycles, seen = [], set()

    def visit(node, stack):
        for nxt in sorted(graph[node]):
            if nxt in stack:
                loop = stack[stack.index(nxt):] + [nxt]
                key = frozenset(loop)
                if key not in seen:
                    seen.add(key)
                    steps = [graph[a][b] for a, b in zip(loop, loop[1:])]
                    cycles.append(' -> '.join(loop) + ': ' + '; '.join(steps))
            elif len(stack) < len(graph) + 1:
                visit(nxt, stack + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    return cycles


def test_every_import_points_down_or_sideways():
    edges = import_edges()
    assert len(edges) > 100, 'the walk found too few imports: is ROOT right?'
    bad = upward_imports(edges)
    assert not bad, 'imports that point up a layer:\n  ' + '\n  '.join(bad)


def test_no_circle_between_folders():
    cycles = folder_cycles(import_edges())
    assert not cycles, 'folders that import each other round a circle:\n  ' + \
        '\n  '.join(cycles)


def _package(tmp_path, files):
    root = tmp_path / PACKAGE
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def test_the_walk_catches_lazy_relative_and_from_package_imports(tmp_path):
    root = _package(tmp_path, {
        '__init__.py': '',
        'utils/__init__.py': 'def f():\n    from ..models import x\n',
        'ops/__init__.py': 'from dualpose import apis\n',
        'ops/k.py': 'from . import helper\nimport dualpose.registry\n',
        'models/__init__.py': 'x = 1\n',
        'apis/__init__.py': '',
    })
    edges = import_edges(root)
    bad = upward_imports(edges)
    assert bad == [
        'dualpose/ops/__init__.py:1: dualpose.ops (layer 2) imports dualpose.apis (layer 5)',
        'dualpose/utils/__init__.py:2: dualpose.utils (layer 1) imports dualpose.models '
        '(layer 3)']
    assert ('dualpose/ops/k.py', 1, 'ops', 'dualpose.ops.helper', 'ops') in edges


def test_the_walk_finds_a_circle_and_an_unknown_folder(tmp_path):
    root = _package(tmp_path, {
        'models/a.py': 'import dualpose.datasets.b\n',
        'datasets/b.py': 'def g():\n    import dualpose.evaluation\n',
        'evaluation/__init__.py': 'from dualpose.models import a\n',
    })
    edges = import_edges(root)
    assert not upward_imports(edges)
    cycles = folder_cycles(edges)
    assert len(cycles) == 1 and cycles[0].startswith('datasets -> evaluation -> models -> '
                                                     'datasets: ')
    assert 'dualpose/datasets/b.py:2 imports dualpose.evaluation' in cycles[0]
    root = _package(tmp_path / 'x', {'misc/m.py': 'import dualpose.utils\n'})
    with pytest.raises(AssertionError, match='dualpose.misc is in no layer'):
        upward_imports(import_edges(root))
