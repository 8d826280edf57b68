"""A quiet console: a short header instead of mmengine's dumps before the first iteration.

mmengine's Runner logs the whole environment, the whole config (about 850 lines for a
dualpose config) and the hook order before anything runs, so an error in the config comes
after some 950 lines. :class:`QuietConsoleFilter` keeps those records out of the console and
in the log file (``<work_dir>/<timestamp>/<timestamp>.log``), and shortens the
``Epoch(val)`` / ``Epoch(test)`` lines to the overall metrics (the per-action values are in the
table printed just before, and in the log file). ``tools/train.py --verbose`` (or
``DUALPOSE_VERBOSE=1``) prints everything as mmengine does.

:class:`ConsoleHeaderHook` logs the short header: config, work dir, log file, data, model
size, device, seed.
"""
import logging
import os
import re

from mmengine.hooks import Hook

from dualpose.registry import HOOKS

__all__ = ['QuietConsoleFilter', 'CompactEpochFormatter', 'StackNoiseFilter', 'ConsoleHeaderHook',
           'verbose_console', 'quiet_console']

# records that go to the log file only (their message starts with one of these)
_FILE_ONLY = (
    '\n' + '-' * 60 + '\nSystem environment:',      # Runner._log_env
    'Config:\n',                                     # Runner._log_env
    'Hooks will be executed in the following order',  # Runner.train / val / test
    'Distributed training is not used, all SyncBatchNorm',  # no SyncBN in dualpose models
)
# per-action entries of an Epoch(val)/Epoch(test) line: 'lift/mpjpe/Walking: 45.1234'
_PER_ACTION = re.compile(r'\s+[^\s:/]+/[^\s:/]+/[^:]*?:\s\S+')  # names may hold spaces

# Deprecation warnings mmengine 0.10.7 prints on every run about its own code, with nothing a
# config can change: its CheckpointHook builds a FileClient "for backward compatibility" even
# when file_client_args is None, and FileClient maps disk paths to the deprecated
# HardDiskBackend alias. Dropped by their exact text, console and file alike.
_STACK_NOISE = (
    '"FileClient" will be deprecated in future.',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


def verbose_console() -> bool:
    """Whether the full mmengine console output was asked for (``--verbose``)."""
    return os.environ.get('DUALPOSE_VERBOSE', '') not in ('', '0')


class QuietConsoleFilter(logging.Filter):
    """For the console handler: mmengine's dumps go to the log file only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_FILE_ONLY)


class CompactEpochFormatter(logging.Formatter):
    """Wraps the console handler's formatter: ``Epoch(val)`` / ``Epoch(test)`` lines without
    their per-action entries (handlers share one record, so the record itself is left whole
    for the log file)."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        if 'Epoch(val)' in text or 'Epoch(test)' in text:
            text = _PER_ACTION.sub('', text)
        return text


class StackNoiseFilter(logging.Filter):
    """For the logger: drop the stack's deprecation notices (see ``_STACK_NOISE``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_STACK_NOISE)


def quiet_console(logger) -> None:
    """Install the filters on an mmengine logger: the noise filter always; unless
    :func:`verbose_console`, the dump filter and the compact epoch lines on its console
    handlers (the file handler keeps everything)."""
    if not any(isinstance(f, StackNoiseFilter) for f in logger.filters):
        logger.addFilter(StackNoiseFilter())
    if verbose_console():
        return
    for handler in logger.handlers:
        console = isinstance(handler, logging.StreamHandler) and \
            not isinstance(handler, logging.FileHandler)
        if not console or any(isinstance(f, QuietConsoleFilter) for f in handler.filters):
            continue
        handler.addFilter(QuietConsoleFilter())
        if handler.formatter is not None:
            handler.setFormatter(CompactEpochFormatter(handler.formatter))


def _minutes(seconds: float) -> str:
    return f'{seconds / 60:.1f} min' if seconds >= 90 else f'{seconds:.0f} s'


def _count(n: int) -> str:
    return f'{n / 1e6:.2f} M' if n >= 1e5 else f'{n:,}'


def _data_line(loaders) -> str:
    parts, files = [], []
    for name, loader in loaders:
        dataset = getattr(loader, 'dataset', None)
        if dataset is None:
            continue
        seq_len = getattr(dataset, 'seq_len', None)
        parts.append(f'{name} {len(dataset):,} clips' + (f' of {seq_len} frames' if seq_len
                                                          else ''))
        ann = getattr(dataset, 'ann_file', None)
        if ann and ann not in files:
            files.append(ann)
    return ', '.join(parts) + (f' ({", ".join(files)})' if files else '')


@HOOKS.register_module()
class ConsoleHeaderHook(Hook):
    """Log a short header before training or testing starts (the data are built by then):
    config, work dir and log file, data, model size, device, seed; and a progress line with an
    ETA every ``progress_interval`` seconds while testing. Registered by ``DualposeRunner``."""
    priority = 'VERY_LOW'

    def __init__(self, progress_interval: float = 10.0):
        self.progress_interval = progress_interval
        self._start = self._last = 0.0
        self._train_start = self._train_last = None
        self._iter0 = 0

    def _header(self, runner, mode: str, loaders) -> None:
        import torch
        from mmengine.model import is_model_wrapper
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        params = sum(p.numel() for p in model.parameters())
        device = next(model.parameters()).device if params else 'cpu'
        log_file = next((h.baseFilename for h in runner.logger.handlers
                         if isinstance(h, logging.FileHandler)), None)
        data = _data_line(loaders)
        n = torch.get_num_threads()
        threads = f', {n} thread' + 's' * (n > 1) if str(device) == 'cpu' else ''
        world = f', {runner.world_size} processes' if runner.world_size > 1 else ''
        seed = runner.cfg.get('randomness', {}) or {}
        lines = [
            f'{mode} {runner.cfg.filename or "(config object)"}',
            f'  work dir: {runner.work_dir}',
            f'  log file: {log_file} (environment, full config, hook order)'
            if log_file and not verbose_console() else '',
            f'  data    : {data}' if data else '',
            f'  model   : {type(model).__name__}, {_count(params)} parameters',
            f'  device  : {device}{threads}{world}',
            f'  seed    : {runner.seed}'
            + (' (deterministic)' if seed.get('deterministic') else ''),
        ]
        runner.logger.info('\n'.join(ln for ln in lines if ln))

    # progress of a training whose console is captured (the study drivers send each run's
    # console to its console.log): a line on the real stderr every 30 s
    captured_interval = 30.0

    def before_train_epoch(self, runner) -> None:
        import time
        if not getattr(self, '_train_start', None):
            self._train_start, self._train_last = time.monotonic(), time.monotonic()
            self._iter0 = runner.iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        import sys
        import time
        if sys.stdout is sys.__stdout__ or sys.__stderr__ is None:
            return  # the console is the terminal: the logger's lines say it
        now = time.monotonic()
        if now - self._train_last < self.captured_interval:
            return
        self._train_last = now
        done, total = runner.iter + 1 - self._iter0, runner.max_iters - self._iter0
        eta = (now - self._train_start) / max(done, 1) * (total - done)
        print(f'  {runner.experiment_name}: iteration {runner.iter + 1}/{runner.max_iters} '
              f'({100 * (runner.iter + 1) / runner.max_iters:.0f} %), eta '
              f'{_minutes(eta)}', file=sys.__stderr__, flush=True)

    def before_train(self, runner) -> None:
        loaders = [('train', runner.train_dataloader)]
        if runner._val_loop is not None and hasattr(runner.val_loop, 'dataloader'):
            loaders.append(('val', runner.val_loop.dataloader))
        self._header(runner, 'train', loaders)

    def before_test(self, runner) -> None:
        self._header(runner, 'test', [('test', runner.test_loop.dataloader)])

    # periodic progress of testing: its batches are often fewer than the logger's interval,
    # which left tools/test.py silent for half a minute
    def before_test_epoch(self, runner) -> None:
        import time
        self._start = self._last = time.monotonic()

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        import time
        now = time.monotonic()
        total = len(runner.test_loop.dataloader)
        done = batch_idx + 1
        if now - self._last < self.progress_interval or done == total:
            return
        self._last = now
        elapsed = now - self._start
        eta = elapsed / done * (total - done)
        runner.logger.info(f'test [{done}/{total}] {100 * done / total:.0f} %, '
                           f'{elapsed:.0f} s elapsed, eta {eta:.0f} s')
