"""Load checkpoints with ``weights_only=True`` and an explicit allow-list.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``. MMEngine
0.10.7 calls it without the argument, so resuming or testing an MMEngine
checkpoint fails on the few non-tensor objects it stores: its
``HistoryBuffer`` (which pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``), numpy arrays and scalars in the message
hub. Rather than switching the safety off, we allow exactly those classes,
and resolve the pickled ``getattr`` to a function that only hands out
HistoryBuffer's registered statistics methods.
"""
import collections
import functools
import os
import os.path as osp
import pickle
import pickletools
from typing import Any, Dict, List, Optional

import torch


def _allowed_globals() -> List[Any]:
    """Classes MMEngine writes into checkpoints, and nothing else."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed: List[Any] = [HistoryBuffer, np.ndarray, np.dtype]
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    allowed += [_reconstruct, scalar]
    # numpy 2 pickles dtypes by their class (numpy.dtypes.Float64DType, ...)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return allowed


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to HistoryBuffer's statistics methods.

    Stands in for the builtin ``getattr`` while unpickling, so a checkpoint
    can name ``HistoryBuffer.mean`` but nothing else.
    """
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = set(
        HistoryBuffer._statistics_methods) | {'min', 'max', 'current', 'mean'}
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) in a weights_only checkpoint:'
        ' only HistoryBuffer statistics methods are allowed')


def register_safe_globals() -> None:
    """Allow MMEngine's checkpoint contents in ``weights_only`` loading."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no allow-list (and no such check)
        add(_allowed_globals())
        add([(history_buffer_getattr, '__builtin__.getattr'),
             (history_buffer_getattr, 'builtins.getattr')])


def _weights_only_load(path: str, map_location: Any) -> Any:
    """``torch.load(weights_only=True)`` plus the allow-list; before torch
    2.4, which cannot extend that list, the same rule through an unpickler
    of our own."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        register_safe_globals()
        return torch.load(path, map_location=map_location, weights_only=True)
    return torch.load(
        path,
        map_location=map_location,
        weights_only=False,  # it refuses a pickle_module
        pickle_module=_RestrictedPickle)


class _RestrictedUnpickler(pickle.Unpickler):
    """Finds only what torch's ``weights_only`` loader and our allow-list
    allow (torch < 2.4)."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _legacy_allowed()
        key = f'{module}.{name}'
        if key not in allowed:
            raise pickle.UnpicklingError(
                f'unsupported global {key} (not a weights-only object)')
        return allowed[key]


class _RestrictedPickle:
    """The ``pickle_module`` interface ``torch.load`` uses."""
    Unpickler = _RestrictedUnpickler

    @staticmethod
    def load(f, **kwargs) -> Any:
        return _RestrictedUnpickler(f, **kwargs).load()


@functools.lru_cache(maxsize=1)
def _legacy_allowed() -> Dict[str, Any]:
    import _codecs

    from torch._weights_only_unpickler import _get_allowed_globals
    allowed = dict(_get_allowed_globals())
    allowed.update({f'{g.__module__}.{g.__qualname__}': g
                    for g in _allowed_globals()})
    # what torch >= 2.4 also allows: numpy arrays' bytes, and the
    # containers of optimizer and scheduler states (MultiStepLR's
    # milestones are a Counter)
    allowed.update({
        '_codecs.encode': _codecs.encode,
        'collections.Counter': collections.Counter,
        'builtins.set': set,
        'builtins.complex': complex,
        'builtins.bytearray': bytearray
    })
    allowed['builtins.getattr'] = history_buffer_getattr
    allowed['__builtin__.getattr'] = history_buffer_getattr
    return allowed


def safe_torch_load(path: str, map_location: Any = 'cpu') -> Any:
    """``torch.load`` restricted to tensors, containers and the allow-list.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: naming the file, if it is not a PyTorch checkpoint
            (a folder, empty, cut short, an HTML page or other text), or
            carries pickled objects outside the allow-list.
    """
    if not osp.exists(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if osp.isdir(path):
        inside = sorted(
            f for f in os.listdir(path) if f.endswith(CHECKPOINT_SUFFIXES))
        hint = f' (it holds {", ".join(inside[:3])})' if inside else ''
        raise ValueError(f'{path} is not a PyTorch checkpoint: it is a '
                         f'folder, not a file{hint}; give the checkpoint '
                         'file itself')
    what = describe_non_checkpoint(path)
    if what is not None:
        raise ValueError(f'{path} is not a PyTorch checkpoint: it is {what}. '
                         f'{_REFETCH}')
    try:
        return _weights_only_load(path, map_location)
    except Exception as e:  # pickle.UnpicklingError, RuntimeError, ...
        if _is_truncation(path, e):
            raise ValueError(
                f'{path} is not a complete PyTorch checkpoint: it ends '
                f'early ({os.path.getsize(path)} bytes), i.e. it was cut '
                f'short, e.g. by an interrupted download or copy. '
                f'{_REFETCH}') from e
        raise ValueError(
            f'{path} could not be loaded as a checkpoint with '
            f'weights_only=True: {e}. Only tensors, plain containers and '
            'MMEngine\'s logging objects are accepted; re-save the file '
            'with torch.save(model.state_dict()) from a trusted source.'
        ) from e


# --------------------------------------------------------------------------
# Recognising files that are not checkpoints
# --------------------------------------------------------------------------
CHECKPOINT_SUFFIXES = ('.pth', '.pth.tar', '.pt', '.ckpt')
_REFETCH = ('Download or copy it again (check the URL: a failed download '
            'often saves an error page), or give the path of the .pth file.')
_ZIP_MAGIC = b'PK\x03\x04'  # torch.save's default (zip) format
_ZIP_END = b'PK\x05\x06'  # end of a zip's central directory
_ZIP_END_MAX = 22 + 0xFFFF  # that record plus the longest zip comment
# torch's legacy formats: a pickle (protocol >= 2) or, before 0.4, a tar
_PICKLE_PROTO = 0x80
_SNIFF = 512


def describe_non_checkpoint(path: str) -> Optional[str]:
    """What ``path`` is, if it certainly is not a PyTorch checkpoint.

    Looks at the first bytes (and, for a zip archive, at its end) without
    unpickling anything. Returns None for a file in one of
    ``torch.save``'s formats, else a phrase such as ``'an HTML page ...'``.
    """
    if osp.isdir(path):
        return 'a folder, not a file'
    size = os.path.getsize(path)
    if size == 0:
        return 'an empty file (0 bytes)'
    with open(path, 'rb') as f:
        head = f.read(_SNIFF)
        if head.startswith(_ZIP_MAGIC):
            f.seek(max(0, size - _ZIP_END_MAX))
            if _ZIP_END not in f.read():
                return (f'a zip archive cut short ({size} bytes, without '
                        'the directory a complete one ends with), e.g. an '
                        'interrupted download or copy')
            return None
    if head[0] == _PICKLE_PROTO or head[257:262] == b'ustar':  # or tar
        return None
    return _describe_bytes(head)


def _describe_bytes(head: bytes) -> str:
    """Name the kind of a non-checkpoint file from its first bytes."""
    # a multi-byte character cut at the end of ``head`` is not binary
    text = head.decode('utf-8', errors='replace').rstrip('\ufffd')
    text = text.lstrip('\ufeff \t\r\n')
    if not all(c.isprintable() or c in '\t\r\n' for c in text):
        return ('neither a zip archive nor a pickle (it starts with bytes '
                f'{head[:8].hex(" ")})')
    low = text.lower()
    if low.startswith(
        ('<!doctype html', '<html', '<head', '<body')) or (low.startswith('<')
                                                           and '<html' in low):
        return ('an HTML page (the error or sign-in page of a download, '
                'saved under this name)')
    if low.startswith('<'):
        return 'an XML or HTML document'
    if low.startswith('version https://git-lfs'):
        return ('a Git LFS pointer, not the file it points to (run '
                '`git lfs pull` in its repository)')
    if low.startswith(('{', '[')):
        return 'a JSON or other text file'
    first = text.splitlines()[0][:60] if text else ''
    return f'a text file (it starts with {first!r})'


def _is_truncation(path: str, e: BaseException) -> bool:
    """Whether a failed ``torch.load`` of ``path`` means the file ends early.

    Torch says so for a zip archive or the legacy format's tensor data; in
    the legacy format's pickles we parse the opcodes (nothing is executed)
    and see whether they stop at the end of the file.
    """
    if isinstance(e, EOFError) or 'unexpected eof' in str(e).lower():
        return True
    with open(path, 'rb') as f:
        if f.read(1) != bytes([_PICKLE_PROTO]):
            return False
        f.seek(0)
        try:  # magic number, protocol, sys info, object, storage keys
            for _ in range(5):
                for _ in pickletools.genops(f):
                    pass
        except ValueError:
            return f.tell() >= os.path.getsize(path)
    return False
