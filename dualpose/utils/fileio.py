"""Atomic file writes: the one place that turns a temporary file into a final one.

A reader of ``path`` sees the old file or the complete new one, never a part: everything is
written to a temporary file in the same folder, flushed to disk (``fsync``) and renamed over
``path`` with ``os.replace`` (one atomic step on POSIX file systems). When anything fails the
temporary file is removed and ``path`` is left as it was.

Three ways in, one mechanism:

* ``write_atomic(path, data)``: ``bytes`` or ``str``;
* ``atomic_open(path, 'wb')``: a file object (``pickle.dump``, ``json.dump``, ``np.savez``);
* ``atomic_path(path)``: a temporary path for savers that open the file themselves
  (``torch.save``, ``cv2.imwrite``, ``cv2.VideoWriter``, a compiler's ``-o``).

``StagedFiles`` stages several files and renames them together at the end (a demo writing a
picture, a table and an animation: all of them or none). ``replace_atomic(tmp, path)`` is the
last step alone, for a temporary file a library has already written (mmengine's checkpoints).

New files get the permissions ``open()`` would give them (``0o666`` less the umask), not the
``0o600`` of ``tempfile.mkstemp``.
"""
import contextlib
import os
import signal
import threading
import os.path as osp
import tempfile
from typing import Callable, Dict, Iterator, List, Optional, Union

__all__ = ['write_atomic', 'write_text_atomic', 'atomic_open', 'atomic_path', 'replace_atomic',
           'temp_path_beside', 'StagedFiles', 'check_writable']


def _default_mode() -> int:
    """``0o666`` less the process umask: the mode ``open(path, 'w')`` gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_file(path: str) -> None:
    with open(path, 'rb') as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable; skipped where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_quietly(path: Optional[str]) -> None:
    if path and osp.lexists(path):
        try:
            os.remove(path)
        except OSError:
            pass


def check_writable(path: str, what: str = 'output') -> str:
    """Fail early, before long work, when ``path`` cannot be written: it is a directory, a
    parent is a regular file, or its folder is not writable. Missing folders are created.
    Returns ``path``."""
    if osp.isdir(path):
        raise IsADirectoryError(f'{what} {path!r} is an existing directory, not a file name')
    folder = osp.dirname(osp.abspath(path))
    probe = folder
    while not osp.exists(probe):
        probe = osp.dirname(probe)
    if not osp.isdir(probe):
        raise NotADirectoryError(f'cannot write {what} {path!r}: {probe!r} is a file, not a '
                                 'folder')
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise OSError(f'cannot create the folder of {what} {path!r}: '
                      f'{err.strerror or err}') from err
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f'cannot write {what} {path!r}: folder {folder!r} is not '
                              'writable')
    return path


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM back while a set of renames runs (delivered afterwards)."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, 'pthread_sigmask') or threading.current_thread() is not \
            threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def temp_path_beside(path: str, suffix: Optional[str] = None) -> str:
    """A new, empty, uniquely named file in ``path``'s folder (created, with its parents,
    when missing), to be renamed over ``path`` later. ``suffix`` defaults to ``path``'s
    extension, for savers that choose the format by it (``cv2.imwrite``, ``np.savez``)."""
    folder, base = osp.split(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if suffix is None:
        suffix = osp.splitext(base)[1]
    fd, tmp = tempfile.mkstemp(prefix=f'.{base}.', suffix=f'.tmp{suffix}', dir=folder)
    os.close(fd)
    return tmp


def replace_atomic(tmp_path: str, path: str, fsync: bool = True,
                   mode: Optional[int] = None) -> str:
    """Rename the finished ``tmp_path`` over ``path`` (same file system).

    Args:
        tmp_path (str): the complete temporary file.
        path (str): the final name; an existing file is replaced in one step.
        fsync (bool): flush the file before and the folder after the rename, so the new
            content survives a power cut. Defaults to True.
        mode (int, optional): permission bits to give the file; defaults to what ``open()``
            gives a new file (``0o666`` less the umask).

    Returns:
        str: ``path``.
    """
    if not osp.isfile(tmp_path):
        raise FileNotFoundError(f'cannot move {tmp_path!r} to {path!r}: the temporary file '
                                'does not exist (was it written?)')
    if fsync:
        _fsync_file(tmp_path)
    os.chmod(tmp_path, _default_mode() if mode is None else mode)
    os.replace(tmp_path, path)
    if fsync:
        _fsync_dir(osp.dirname(osp.abspath(path)))
    return path


@contextlib.contextmanager
def atomic_path(path: str, suffix: Optional[str] = None, fsync: bool = True,
                mode: Optional[int] = None) -> Iterator[str]:
    """Yield a temporary path beside ``path``; when the block ends without an error the file
    written there replaces ``path``, otherwise it is removed and ``path`` is untouched.

    Example::

        with atomic_path('work_dirs/model.pth') as tmp:
            torch.save(state, tmp)
    """
    tmp = temp_path_beside(path, suffix)
    try:
        yield tmp
        replace_atomic(tmp, path, fsync=fsync, mode=mode)
    except OSError as err:
        if err.filename in (None, tmp) and path not in str(err):
            # e.g. a full disk: name the file being written (the temporary one is removed)
            raise OSError(err.errno, f'could not write {path!r}: {err.strerror or err}') \
                from err
        raise
    finally:
        _remove_quietly(tmp)


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'wb', fsync: bool = True, **open_kwargs):
    """``open(path, mode)`` for writing, atomically: the file object writes to a temporary
    file that replaces ``path`` when the block ends without an error."""
    if not any(c in mode for c in 'wx'):
        raise ValueError(f'atomic_open writes a new file; mode must contain "w", got {mode!r}')
    with atomic_path(path, fsync=fsync) as tmp:
        with open(tmp, mode.replace('x', 'w'), **open_kwargs) as f:
            yield f


def write_atomic(path: str, data: Union[bytes, str, Callable], fsync: bool = True,
                 encoding: str = 'utf-8') -> str:
    """Write ``data`` to ``path`` atomically; returns ``path``.

    Args:
        path (str): the file to (over)write; missing folders are created.
        data (bytes | str | callable): the content; a callable is called with a temporary
            path and must write the whole file there (``lambda p: torch.save(obj, p)``).
        fsync (bool): flush to disk before the rename. Defaults to True.
        encoding (str): for ``str`` data. Defaults to ``'utf-8'``.
    """
    if callable(data):
        with atomic_path(path, fsync=fsync) as tmp:
            data(tmp)
    elif isinstance(data, (bytes, bytearray, memoryview)):
        with atomic_open(path, 'wb', fsync=fsync) as f:
            f.write(data)
    elif isinstance(data, str):
        with atomic_open(path, 'w', fsync=fsync, encoding=encoding) as f:
            f.write(data)
    else:
        raise TypeError(f'write_atomic({path!r}): data must be bytes, str or a callable '
                        f'taking a path, got {type(data).__name__}')
    return path


def write_text_atomic(path: str, text: str) -> str:
    """``write_atomic`` for text (UTF-8)."""
    if not isinstance(text, str):
        raise TypeError(f'write_text_atomic({path!r}): text must be str, '
                        f'got {type(text).__name__}')
    return write_atomic(path, text)


class StagedFiles:
    """Several files written under temporary names and moved into place together.

    ``path(final)`` gives the temporary path for ``final``; ``commit()`` renames every staged
    file to its final name, ``abort()`` removes them. As a context manager it commits when the
    block succeeds and aborts on any error (including KeyboardInterrupt).
    """

    def __init__(self, fsync: bool = True):
        self.fsync = fsync
        self.staged: Dict[str, str] = {}

    def path(self, final: str, suffix: Optional[str] = None) -> str:
        if final in self.staged:
            return self.staged[final]
        self.staged[final] = temp_path_beside(final, suffix)
        return self.staged[final]

    def discard(self, final: str) -> None:
        """Remove one staged file (e.g. a format that could not be written)."""
        _remove_quietly(self.staged.pop(final, None))

    def commit(self) -> List[str]:
        """Move the staged files to their final names, all or none; returns those names.

        A final name that is a directory fails before anything moves. The old files are set
        aside first and put back when a rename fails; SIGINT and SIGTERM are held back until
        the set is in place."""
        dirs = [f for f in self.staged if osp.isdir(f)]
        if dirs:
            self.abort()
            raise IsADirectoryError(f'cannot write {dirs[0]!r}: it is an existing directory; '
                                    'none of the outputs was written')
        done, backups = [], {}
        with _signals_deferred():
            try:
                for final, tmp in list(self.staged.items()):
                    if osp.lexists(final):
                        backups[final] = temp_path_beside(final, '.old')
                        os.replace(final, backups[final])
                    replace_atomic(tmp, final, fsync=self.fsync)
                    del self.staged[final]
                    done.append(final)
            except BaseException:
                for final in done:
                    _remove_quietly(final)
                for final, old in backups.items():
                    os.replace(old, final)
                self.abort()
                raise
            for old in backups.values():
                _remove_quietly(old)
        return done

    def abort(self) -> None:
        for final in list(self.staged):
            self.discard(final)

    def __enter__(self) -> 'StagedFiles':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
