"""Set or read the attention temperature of every ODConv in a model."""
from typing import List

import torch.nn as nn

from .odconv import ODConv2d, check_temperature


def _odconvs(model: nn.Module) -> List[ODConv2d]:
    """Every ODConv2d in ``model``, each once, whatever its name. A wrapper
    such as DDP is an ``nn.Module`` whose ``module`` child is the model, so
    the walk reaches the model through it: nothing is unwrapped by name."""
    return [m for m in model.modules() if isinstance(m, ODConv2d)]


def set_temperature(model: nn.Module, temperature: float) -> int:
    """Set ``temperature`` on every ODConv2d in ``model``.

    Returns:
        int: How many layers were updated (0 means the model has no ODConv).
    """
    temperature = check_temperature(temperature)  # before changing any
    layers = _odconvs(model)
    for m in layers:
        m.set_temperature(temperature)
    return len(layers)


def get_temperature(model: nn.Module) -> float:
    """Return the common temperature of the model's ODConv layers.

    Raises ValueError if there is none or they disagree.
    """
    temps = {m.temperature for m in _odconvs(model)}
    if len(temps) != 1:
        raise ValueError('expected ODConv layers sharing one temperature, '
                         f'found {sorted(temps) or "no ODConv layer"}')
    return temps.pop()
