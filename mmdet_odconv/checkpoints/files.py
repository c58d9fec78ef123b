"""Checked output paths and atomic writes.

Outputs are checked before anything is loaded or built, so a typo costs a
one-line message rather than a minute of work and a raw ``OSError``, and
no output may be one of the files a command reads, however spelled.
"""
import os
import os.path as osp
import stat
import tempfile
from typing import Any, Iterable, Optional, Tuple

import torch


def is_remote(path: str) -> bool:
    """URLs and MMEngine's schemes (``torchvision://``, ``s3://``, ...)."""
    return '://' in path


def check_destination(dst: str) -> None:
    """Raise a clear error if ``dst`` cannot be written as a file.

    A missing parent folder is fine (it is created); an existing folder at
    ``dst``, or a file where a parent folder should be, is not.
    """
    if osp.isdir(dst):
        raise ValueError(f'{dst} is a directory; give the output file name, '
                         f'e.g. {osp.join(dst, "converted.pth")}')
    parent = osp.dirname(osp.abspath(dst))
    while not osp.exists(parent):
        parent = osp.dirname(parent)
    if not osp.isdir(parent):
        raise ValueError(f'cannot write {dst}: {parent} is a file, not a '
                         'folder')


def same_file(a: str, b: str) -> bool:
    """Whether two paths name one file, however spelled: ``./a/../a``,
    symlinks and hard links included."""
    try:
        return osp.samefile(a, b)
    except OSError:  # one does not exist (yet)
        return osp.realpath(a) == osp.realpath(b)


def check_not_an_input(dst: str,
                       inputs: Iterable[Tuple[str, Optional[str]]]) -> None:
    """Raise a ValueError if writing ``dst`` would write over one of the
    files a tool reads: ``inputs`` are ``(what, path)`` pairs (a None or
    remote path is skipped)."""
    for what, path in inputs:
        if path and not is_remote(path) and same_file(dst, path):
            raise ValueError(
                f'{dst} is the {what} this command reads ({path}); writing '
                'it would destroy it: give another output path')


def _mode_for(dst: str) -> int:
    """The mode ``torch.save(obj, dst)`` would leave: an existing file's
    own, else ``0o666`` less the process umask."""
    if osp.exists(dst):
        return stat.S_IMODE(os.stat(dst).st_mode)
    umask = os.umask(0o022)  # the only portable way to read it
    os.umask(umask)
    return 0o666 & ~umask


def save_atomic(obj: Any, dst: str) -> None:
    """``torch.save`` to a temporary file, then rename: never half-written.

    The file gets the permissions ``torch.save(obj, dst)`` would give it
    (``mkstemp`` creates it private, 0600, which would survive the rename).
    """
    check_destination(dst)
    dst_dir = osp.dirname(osp.abspath(dst))
    os.makedirs(dst_dir, exist_ok=True)
    mode = _mode_for(dst)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.pth', dir=dst_dir)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
