"""Train-then-test runs and their summaries, shared by the study drivers in this folder
(``ablation.py``, ``low_label_study.py``).

A run calls ``tools/train.py`` and ``tools/test.py`` *in this process* (their ``main(argv)``),
so a study of dozens of short runs pays Python's and torch's start-up once. Each run's console
output goes to ``<work_dir>/console.log``; the driver prints one line per run.

    from study_runs import train, train_and_test, summarize
"""
import contextlib
import glob
import importlib.util
import json
import os
import os.path as osp
import statistics
import time
from typing import Dict, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METRICS = ('lift/mpjpe', 'lift/p_mpjpe', 'lift/mpjve')
_TOOLS: Dict[str, object] = {}
_RUNS = 0  # runs in this process, for unique names


class RunFailed(RuntimeError):
    """A tool exited with an error; the message names the command and the console log."""


def load_tool(rel_path: str):
    """``tools/<rel_path>`` imported as a module (once)."""
    if rel_path not in _TOOLS:
        name = '_study_tool_' + osp.splitext(rel_path)[0].replace('/', '_')
        spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', rel_path))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[rel_path] = module
    return _TOOLS[rel_path]


def command_line(tool: str, args: Sequence[str]) -> str:
    """The shell command that does what ``run_tool(tool, args)`` does."""
    return ' '.join(['python', f'tools/{tool}', *[_quote(a) for a in args]])


def _quote(arg: str) -> str:
    return f"'{arg}'" if any(c in arg for c in ' ()[],') else arg


def run_tool(tool: str, args: Sequence[str], log_file: str):
    """Run ``tools/<tool>``'s ``main(args)`` here, its console output appended to
    ``log_file``. Returns ``(result of main, seconds)``; raises :class:`RunFailed`.

    mmengine keeps loggers, message hubs and visualizers by name for the life of the process:
    each run gets names of its own (``experiment_name``, ``visualizer.name``), so a run never
    writes into an earlier run's files."""
    from mmengine.logging import MMLogger
    module = load_tool(tool)
    global _RUNS
    _RUNS += 1
    name = f'{osp.basename(osp.dirname(osp.abspath(log_file)))}_{tool[:-3]}_{_RUNS}'
    args = [*args, '--cfg-options', f'experiment_name={name}', f'visualizer.name={name}']
    os.makedirs(osp.dirname(osp.abspath(log_file)), exist_ok=True)
    start = time.time()
    cwd = os.getcwd()
    with open(log_file, 'a') as log:
        log.write(f'$ {command_line(tool, args)}\n')
        log.flush()
        try:
            os.chdir(REPO)  # configs name their data relative to the repository
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                result = module.main(list(args))
        except (Exception, SystemExit) as err:
            if isinstance(err, SystemExit) and err.code in (None, 0):
                result = None
            else:
                raise RunFailed(f'{command_line(tool, args)} failed ({err!r}); see {log_file}') \
                    from err
        finally:
            os.chdir(cwd)
            # the run's logger (named by its experiment_name) writes to the redirected
            # stream: close it with it
            loggers = [MMLogger.get_instance(name)] if MMLogger.check_instance_created(name) \
                else []
            for logger in loggers:
                for handler in list(logger.handlers):
                    handler.close()
                    logger.removeHandler(handler)
    return result, time.time() - start


def parse_options(options: Sequence[str]) -> dict:
    """``['a.b=1', 'c=[x,y]']`` parsed as ``--cfg-options`` parses them."""
    import argparse

    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(['--cfg-options', *options] if options else []).cfg_options


def config_with(config: str, options: Sequence[str] = ()):
    """The config file (relative to the repository) with ``options`` merged, as the tools
    read it."""
    from dualpose.utils.config import read_config
    cfg = read_config(osp.join(REPO, config))
    cfg.merge_from_dict(parse_options(options))
    return cfg


def build_dataset(cfg, key: str = 'train_dataloader'):
    """The dataset of one of the config's loaders, its data root taken from the repository."""
    from dualpose.registry import DATASETS
    from dualpose.apis import register_all_modules
    register_all_modules()
    ds_cfg = cfg[key]['dataset'].copy()
    if ds_cfg.get('data_root') and not osp.isabs(ds_cfg['data_root']):
        ds_cfg['data_root'] = osp.join(REPO, ds_cfg['data_root'])
    return DATASETS.build(ds_cfg)


def time_model(cfg, batch_size: Optional[int] = None, repeats: int = 3,
               dataset=None) -> Dict[str, float]:
    """Median seconds, on a batch of the config's training data (default: its batch size), of
    one optimisation step (loss, backward, AdamW: ``step``) and of one evaluation forward pass
    (no gradients, twice with flip averaging: ``forward``)."""
    import torch
    from mmengine.dataset import pseudo_collate

    from dualpose.registry import MODELS
    from dualpose.apis import register_all_modules
    from dualpose.utils.timer import summarize as time_summary
    from dualpose.utils.timer import time_calls
    register_all_modules()
    batch_size = batch_size or cfg.train_dataloader.batch_size
    ds = dataset if dataset is not None else build_dataset(cfg)
    model = MODELS.build(cfg.model).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    data = model.data_preprocessor(
        pseudo_collate([ds[i % len(ds)] for i in range(batch_size)]), True)

    def step():
        losses = model(**data, mode='loss')
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()

    def forward():
        with torch.no_grad():
            model(data['inputs'], mode='tensor')

    out = {}
    for name, fn in (('step', step), ('forward', forward)):
        model.train(name == 'step')
        times = [wall for wall, _ in time_calls(fn, repeats, warmup=1)]
        out[name] = time_summary(times)['median']
    flip = (cfg.model.get('test_cfg') or {}).get('flip_test', False)
    out['forward'] *= 2 if flip else 1
    return out


def step_seconds(cfg, batch_size: Optional[int] = None, repeats: int = 3,
                 dataset=None) -> float:
    """Median seconds of one optimisation step; see :func:`time_model`."""
    return time_model(cfg, batch_size, repeats, dataset)['step']


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint ``<work_dir>/last_checkpoint`` names (a path relative to the work dir;
    older files hold an absolute one)."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        path = f.read().strip()
    return path if osp.isabs(path) else osp.join(work_dir, path)


def best_checkpoint(work_dir: str) -> str:
    """The checkpoint kept for the best validation score (``best_*.pth``), else the last."""
    best = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
    return best[-1] if best else last_checkpoint(work_dir)


def train(config: str, work_dir: str, options: Sequence[str] = (),
          seed: Optional[int] = None) -> float:
    """``tools/train.py CONFIG --work-dir W [--seed S] --cfg-options ...``; returns seconds."""
    args = [config, '--work-dir', work_dir]
    if seed is not None:
        args += ['--seed', str(seed)]
    if options:
        args += ['--cfg-options', *options]
    _, secs = run_tool('train.py', args, osp.join(work_dir, 'console.log'))
    return secs


def test(config: str, checkpoint: str, work_dir: str, options: Sequence[str] = ()):
    """``tools/test.py``; returns ``(metrics dict, seconds)``."""
    args = [config, checkpoint, '--work-dir', work_dir]
    if options:
        args += ['--cfg-options', *options]
    metrics, secs = run_tool('test.py', args, osp.join(work_dir, 'console.log'))
    return {k: float(v) for k, v in metrics.items()}, secs


def train_and_test(config: str, work_dir: str, options: Sequence[str] = (),
                   seed: Optional[int] = None, checkpoint: str = 'best') -> dict:
    """Train, then score the test split once with the ``'best'`` (validation) or ``'last'``
    checkpoint. Returns ``metrics``, ``train_seconds``, ``test_seconds``, ``checkpoint``."""
    train_secs = train(config, work_dir, options, seed)
    ckpt = best_checkpoint(work_dir) if checkpoint == 'best' else last_checkpoint(work_dir)
    metrics, test_secs = test(config, ckpt, work_dir, options)
    return dict(metrics=metrics, train_seconds=train_secs, test_seconds=test_secs,
                checkpoint=osp.relpath(ckpt, work_dir))


def summarize(values: Sequence[float]) -> dict:
    """``mean``, sample ``std`` (0 for one value), ``n`` and the ``values``."""
    values = [float(v) for v in values]
    if not values:
        return dict(mean=float('nan'), std=float('nan'), n=0, values=[])
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return dict(mean=statistics.mean(values), std=std, n=len(values), values=values)


def mean_std(summary: dict, digits: int = 2) -> str:
    """``'45.18 ± 1.20'``; the mean alone for one value, ``'-'`` for none."""
    if not summary.get('n'):
        return '-'
    if summary['n'] == 1:
        return f'{summary["mean"]:.{digits}f}'
    return f'{summary["mean"]:.{digits}f} ± {summary["std"]:.{digits}f}'


def write_json(path: str, obj) -> None:
    """Write json atomically (a temporary file renamed into place)."""
    from dualpose.utils.fileio import atomic_open
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, indent=1)


def read_json(path: str) -> Optional[dict]:
    """The json in ``path``, or None when it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_curves(work_dir: str, val_key: str = 'lift/mpjpe') -> Dict[str, list]:
    """The training curves of the run in ``work_dir`` (its latest ``vis_data/scalars.json``):
    ``val`` [(epoch, validation ``val_key``: MPJPE in mm by default)], ``loss`` [(iteration,
    training loss)] and, for a pre-training, ``target_std`` / ``pred_std`` [(iteration,
    value)]."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    out: Dict[str, list] = dict(val=[], loss=[], target_std=[], pred_std=[])
    if not files:
        return out
    with open(files[-1]) as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if val_key in row:
                out['val'].append((int(row['step']), float(row[val_key])))
            elif 'loss' in row:
                out['loss'].append((int(row['step']), float(row['loss'])))
                for key in ('target_std', 'pred_std'):
                    if key in row:
                        out[key].append((int(row['step']), float(row[key])))
    return out


def metric_name(key: str) -> str:
    """``'lift/p_mpjpe'`` -> ``'P-MPJPE'``."""
    return key.split('/')[-1].upper().replace('_', '-')


ARM_COLORS = {'scratch': '#4c72b0', 'crl': '#dd8452'}


def plot_arm_curves(arms: Dict[str, list], labels: Dict[str, str], pre_dirs: Dict[int, str],
                    out_file: str, val_label: str, finetune_title: str, suptitle: str,
                    finetune_xlabel: str = 'fine-tuning epoch',
                    pretrain_xlabel: str = 'pre-training iteration') -> str:
    """The two-panel figure of a scratch-against-CRL study: on the left the validation curve
    (``r['curve']``, [(epoch, value)]) of every fine-tuning run in ``arms`` (arm -> runs), on
    the right the CRL loss per iteration of each pre-training run in ``pre_dirs`` (seed ->
    work dir). Writes ``out_file`` and returns it."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for arm, runs in arms.items():
        for i, r in enumerate(runs):
            if r['curve']:
                e, v = zip(*r['curve'])
                ax1.plot(e, v, color=ARM_COLORS.get(arm), alpha=0.8, marker='.', markersize=3,
                         label=labels.get(arm, arm) if i == 0 else None)
    ax1.set_xlabel(finetune_xlabel)
    ax1.set_ylabel(val_label)
    ax1.set_title(finetune_title, fontsize=9)
    if ax1.lines:
        ax1.legend(fontsize=8)
    for seed, run_dir in pre_dirs.items():
        curves = read_curves(run_dir)
        if curves['loss']:
            it, loss = zip(*curves['loss'])
            ax2.plot(it, loss, label=f'seed {seed}')
    ax2.set_xlabel(pretrain_xlabel)
    ax2.set_ylabel('CRL loss')
    ax2.set_title('pre-training on the 2D of all training subjects', fontsize=9)
    if ax2.lines:
        ax2.set_yscale('log')
        ax2.legend(fontsize=8)
    else:
        ax2.text(0.5, 0.5, 'no pre-training curves (pre-trained checkpoints given)',
                 ha='center', va='center', fontsize=8, transform=ax2.transAxes)
    fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_file, dpi=110)
    plt.close(fig)
    return out_file


if __name__ == '__main__':  # a library for the study drivers; say so instead of nothing
    print(__doc__)
    print('Run a study with tools/analysis/ablation.py or tools/analysis/low_label_study.py '
          '(each takes --help).')
