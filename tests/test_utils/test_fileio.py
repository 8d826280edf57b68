"""The atomic-write helper: a failure leaves no file and no temporary file behind, an
overwrite that fails keeps the old file, and new files get ordinary permissions."""
import json
import os
import stat

import pytest

from dualpose.utils.fileio import (StagedFiles, atomic_open, atomic_path, replace_atomic,
                                   write_atomic, write_text_atomic)


class Boom(RuntimeError):
    pass


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _umask_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def test_bytes_text_and_callable_land_in_place(tmp_path):
    a, b, c = tmp_path / 'a.bin', tmp_path / 'sub' / 'b.txt', tmp_path / 'c.json'
    assert write_atomic(str(a), b'\x00\x01') == str(a)
    write_text_atomic(str(b), 'héllo')            # missing folders are created
    write_atomic(str(c), lambda p: json.dump({'x': 1}, open(p, 'w')))
    assert a.read_bytes() == b'\x00\x01'
    assert b.read_text(encoding='utf-8') == 'héllo'
    assert json.loads(c.read_text()) == {'x': 1}
    assert sorted(os.listdir(tmp_path)) == ['a.bin', 'c.json', 'sub']
    assert os.listdir(tmp_path / 'sub') == ['b.txt']


@pytest.mark.parametrize('how', ['open', 'path', 'callable'])
def test_failure_mid_write_leaves_no_file_and_no_temporary(tmp_path, how):
    target = tmp_path / 'out.pkl'
    with pytest.raises(Boom):
        if how == 'open':
            with atomic_open(str(target), 'wb') as f:
                f.write(b'half')
                raise Boom()
        elif how == 'path':
            with atomic_path(str(target)) as tmp:
                with open(tmp, 'wb') as f:
                    f.write(b'half')
                raise Boom()
        else:
            def saver(tmp):
                with open(tmp, 'wb') as f:
                    f.write(b'half')
                raise Boom()
            write_atomic(str(target), saver)
    assert os.listdir(tmp_path) == []


def test_failed_overwrite_keeps_the_old_file(tmp_path):
    target = tmp_path / 'metrics.json'
    write_text_atomic(str(target), 'old')
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(str(target), 'w') as f:
            f.write('new but unfinished')
            raise KeyboardInterrupt
    assert target.read_text() == 'old'
    assert os.listdir(tmp_path) == ['metrics.json']
    write_text_atomic(str(target), 'new')
    assert target.read_text() == 'new'


def test_temporary_is_beside_the_target_with_its_extension(tmp_path):
    target = tmp_path / 'picture.png'
    with atomic_path(str(target)) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path)
        assert tmp.endswith('.png') and os.path.basename(tmp).startswith('.picture.png.')
        assert not target.exists()
        open(tmp, 'wb').write(b'png')
    assert target.read_bytes() == b'png'


def test_new_files_get_umask_permissions_not_mkstemps_0600(tmp_path):
    target = tmp_path / 'model.pth'
    with atomic_path(str(target)) as tmp:
        assert _mode(tmp) == 0o600                 # what mkstemp made
        open(tmp, 'wb').write(b'x')
    assert _mode(target) == _umask_mode()
    old = os.umask(0o077)
    try:
        write_atomic(str(target), b'y')
        assert _mode(target) == 0o600
    finally:
        os.umask(old)
    write_atomic(str(target), b'z')
    assert _mode(target) == _umask_mode()


def test_replace_atomic_moves_a_finished_file_and_names_a_missing_one(tmp_path):
    part, final = tmp_path / 'epoch_1.pth.part', tmp_path / 'epoch_1.pth'
    part.write_bytes(b'ckpt')
    replace_atomic(str(part), str(final))
    assert final.read_bytes() == b'ckpt' and not part.exists()
    with pytest.raises(FileNotFoundError, match='epoch_1.pth.part.*does not exist'):
        replace_atomic(str(part), str(final))


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(TypeError, match="data must be bytes, str or a callable.*got int"):
        write_atomic(str(tmp_path / 'x'), 3)
    with pytest.raises(ValueError, match='mode must contain "w"'):
        with atomic_open(str(tmp_path / 'x'), 'rb'):
            pass
    assert os.listdir(tmp_path) == []


def test_staged_files_commit_together_or_not_at_all(tmp_path):
    a, b = str(tmp_path / 'a.npz'), str(tmp_path / 'b.json')
    with pytest.raises(Boom):
        with StagedFiles() as staged:
            open(staged.path(a), 'wb').write(b'a')
            open(staged.path(b), 'w').write('b')
            raise Boom()
    assert os.listdir(tmp_path) == []
    with StagedFiles() as staged:
        open(staged.path(a), 'wb').write(b'a')
        assert staged.path(a) == staged.path(a)   # one temporary per final name
        open(staged.path(b), 'w').write('b')
        assert not os.path.exists(a)
    assert sorted(os.listdir(tmp_path)) == ['a.npz', 'b.json']
