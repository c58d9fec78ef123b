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
from typing import Any, List

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
    allowed = set(HistoryBuffer._statistics_methods) | {
        'min', 'max', 'current', 'mean'
    }
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


def safe_torch_load(path: str, map_location: Any = 'cpu') -> Any:
    """``torch.load`` restricted to tensors, containers and the allow-list.

    Raises:
        ValueError: naming the file, if it is not a readable checkpoint or
            carries pickled objects outside the allow-list.
    """
    register_safe_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:  # pickle.UnpicklingError, RuntimeError, ...
        raise ValueError(
            f'{path} could not be loaded as a checkpoint with '
            f'weights_only=True: {e}. Only tensors, plain containers and '
            'MMEngine\'s logging objects are accepted; re-save the file '
            'with torch.save(model.state_dict()) from a trusted source.'
        ) from e
