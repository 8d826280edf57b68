"""The quiet console: mmengine's dumps go to the log file only, Epoch(val) lines lose their
per-action entries on the console, the stack's deprecation notices are dropped."""
import io
import sys
import logging

import pytest

from dualpose.engine import console


@pytest.fixture
def logger(tmp_path, monkeypatch):
    monkeypatch.delenv('DUALPOSE_VERBOSE', raising=False)
    log = logging.getLogger(f'console-test-{tmp_path.name}')
    log.propagate = False
    log.setLevel(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter('%(levelname)s - %(message)s'))
    log.addHandler(handler)
    log.addHandler(logging.FileHandler(tmp_path / 'run.log'))
    yield log, stream, tmp_path / 'run.log'
    for h in list(log.handlers):
        h.close()
        log.removeHandler(h)


def messages(log):
    log.info('\n' + '-' * 60 + '\nSystem environment:\n    sys.platform: linux')
    log.info('Config:\ndefault_scope = "dualpose"')
    log.info('Hooks will be executed in the following order:\nbefore_run: ...')
    log.warning('"FileClient" will be deprecated in future. Please use io functions')
    log.warning('"HardDiskBackend" is the alias of "LocalBackend" and the former ...')
    log.info('Epoch(val) [1][1/1]    lift/mpjpe: 41.5000  lift/mpjpe/Walking: 40.1000  '
             'lift/p_mpjpe/Sitting Down: 30.0000  data_time: 0.0100')
    log.info('Epoch(train) [1][5/8]  loss: 1.0')


def test_quiet_console_keeps_dumps_in_the_file(logger):
    log, stream, path = logger
    console.quiet_console(log)
    console.quiet_console(log)  # twice: no duplicate filters
    messages(log)
    shown = stream.getvalue()
    assert 'System environment' not in shown and 'Config:' not in shown
    assert 'Hooks will be executed' not in shown
    assert 'lift/mpjpe: 41.5000' in shown and 'Walking' not in shown and 'Sitting' not in shown
    assert 'data_time: 0.0100' in shown and 'Epoch(train)' in shown
    assert 'FileClient' not in shown and 'HardDiskBackend' not in shown
    written = path.read_text()
    assert 'System environment' in written and 'Config:' in written
    assert 'lift/mpjpe/Walking: 40.1000' in written   # the file keeps whole lines
    assert 'FileClient' not in written


def test_verbose_console_shows_everything(logger, monkeypatch):
    log, stream, _ = logger
    monkeypatch.setenv('DUALPOSE_VERBOSE', '1')
    console.quiet_console(log)
    messages(log)
    shown = stream.getvalue()
    assert 'System environment' in shown and 'lift/mpjpe/Walking' in shown
    assert 'FileClient' not in shown  # the deprecation notices stay filtered


def test_captured_training_reports_progress_on_the_real_stderr(monkeypatch):
    """The study drivers capture each run's console: progress then goes to the real stderr."""
    from types import SimpleNamespace
    hook = console.ConsoleHeaderHook()
    hook.captured_interval = 0.0
    runner = SimpleNamespace(iter=0, max_iters=10, experiment_name='arm_seed0')
    real, captured = io.StringIO(), io.StringIO()
    monkeypatch.setattr('sys.__stderr__', real)
    monkeypatch.setattr('sys.stdout', captured)
    hook.before_train_epoch(runner)
    for i in range(3):
        runner.iter = i
        hook.after_train_iter(runner, i)
    lines = real.getvalue().splitlines()
    assert len(lines) == 3 and 'arm_seed0: iteration 3/10 (30 %), eta' in lines[-1]
    monkeypatch.setattr('sys.stdout', sys.__stdout__)
    hook.after_train_iter(runner, 3)  # a terminal console: the logger's lines suffice
    assert len(real.getvalue().splitlines()) == 3
