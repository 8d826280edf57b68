"""One training run per work dir: a lock file naming its owner (pid, host, start time)."""
import json
import os
import os.path as osp
import socket
import time
from typing import Optional

LOCK_NAME = 'train.lock'


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _describe(owner: dict) -> str:
    return (f"pid {owner.get('pid')} on host {owner.get('host')!r}, started "
            f"{owner.get('started', '?')}")


class WorkDirLock:
    """``<work_dir>/train.lock``, created exclusively (``O_EXCL``) and holding
    ``{"pid", "host", "started"}``.

    * a live owner (or any owner on another host, whose pid cannot be checked) makes
      :meth:`acquire` raise a RuntimeError naming the owner and the lock file;
    * a stale lock (its pid no longer runs on this host) is taken over with a warning;
    * :meth:`release` removes the file only while it is still this process's.
    """

    def __init__(self, work_dir: str, warn=None):
        self.path = osp.join(work_dir, LOCK_NAME)
        self.warn = warn or (lambda msg: None)
        self.me = dict(pid=os.getpid(), host=socket.gethostname(),
                       started=time.strftime('%Y-%m-%d %H:%M:%S'))
        self.held = False

    def _read(self) -> Optional[dict]:
        try:
            with open(self.path) as f:
                owner = json.load(f)
            return owner if isinstance(owner, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}   # unreadable: a half-written lock; treated as stale below

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, 'w') as f:
            json.dump(self.me, f)
        return True

    def acquire(self) -> 'WorkDirLock':
        os.makedirs(osp.dirname(self.path) or '.', exist_ok=True)
        for _ in range(3):
            if self._create():
                self.held = True
                return self
            owner = self._read()
            if owner is None:       # removed meanwhile: try again
                continue
            pid, host = owner.get('pid'), owner.get('host')
            same_host = host == self.me['host']
            if pid == self.me['pid'] and same_host:
                raise RuntimeError(f'{self.path}: this process already trains in this work dir')
            if isinstance(pid, int) and same_host and _alive(pid):
                raise RuntimeError(
                    f'work dir {osp.dirname(self.path)!r} is in use by another training run '
                    f'({_describe(owner)}; lock file {self.path}). Use another --work-dir, or '
                    'wait for that run to end.')
            if not same_host and owner:
                raise RuntimeError(
                    f'work dir {osp.dirname(self.path)!r} is locked by a run on another host '
                    f'({_describe(owner)}; lock file {self.path}). If that run has ended, '
                    'delete the lock file.')
            self.warn(f'taking over the stale lock {self.path} of a run that no longer runs '
                      f'({_describe(owner) if owner else "unreadable lock file"})')
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass
        raise RuntimeError(f'could not take the lock {self.path}: another run keeps creating it')

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        owner = self._read()
        if owner and owner.get('pid') == self.me['pid'] and owner.get('host') == self.me['host']:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
