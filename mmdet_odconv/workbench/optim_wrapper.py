"""Mixed precision on the CPU for MMEngine runners.

MMEngine's ``AmpOptimWrapper`` refuses to run without an accelerator. On the
CPU, autocast computes in bfloat16, which has float32's exponent range, so
no loss scaling is needed. mmcv's CPU ops (NMS, RoIAlign) have no bfloat16
kernels, so for detectors only the backbone and neck (where the convs, and
ODConv, are) run under autocast; their outputs return to float32 for the
heads.
"""
import contextlib
from typing import Iterator

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

AUTOCAST_PARTS = ('backbone', 'neck')


def _to_float(x):
    if torch.is_tensor(x) and x.is_floating_point():
        return x.float()
    if isinstance(x, (list, tuple)):
        return type(x)(_to_float(v) for v in x)
    return x


@OPTIM_WRAPPERS.register_module()
class BF16AutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` that runs the backbone and neck (or the whole
    model, if it has neither) under bfloat16 autocast.

    ``tools/train.py --amp`` selects it when CUDA is unavailable.

    Args:
        device_type (str): Autocast device type. Defaults to 'cpu'.
        **kwargs: ``OptimWrapper`` arguments.
    """

    def __init__(self, device_type: str = 'cpu', **kwargs) -> None:
        super().__init__(**kwargs)
        self.device_type = device_type

    def _autocast(self):
        return torch.autocast(self.device_type, dtype=torch.bfloat16)

    @contextlib.contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        inner = model.module if is_model_wrapper(model) else model
        parts = [getattr(inner, n) for n in AUTOCAST_PARTS
                 if isinstance(getattr(inner, n, None), nn.Module)]
        with super().optim_context(model):
            if not parts:
                with self._autocast():
                    yield
                return
            originals = [p.forward for p in parts]

            def wrap(fwd):

                def forward(*args, **kwargs):
                    with self._autocast():
                        return _to_float(fwd(*args, **kwargs))

                return forward

            try:
                for p, fwd in zip(parts, originals):
                    p.forward = wrap(fwd)
                yield
            finally:
                for p in parts:
                    del p.forward  # back to the class's forward
