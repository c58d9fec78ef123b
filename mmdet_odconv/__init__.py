"""mmdet-odconv: ODConv (ICLR 2022) for MMDetection.

Importing the package registers, in MMEngine's registries:

- ``ODConv`` (``ODConv2d``) as an MMCV conv layer, so
  ``conv_cfg=dict(type='ODConv')`` works in any backbone;
- ``ODResNet``, ``ODResNeXt``, ``ODMobileNetV2``: backbones with the paper's
  placement (stem and shortcut convs stay static);
- ``ODConvTemperatureHook``: a temperature annealing hook.
"""
from . import engine, layers, models  # noqa: F401  (registration)
from .engine import ODConvTemperatureHook
from .layers import (IMPLS, ODConv2d, ODConvAttention, get_temperature,
                     set_temperature)
from .utils import register_safe_globals
from .version import __version__

register_safe_globals()

__all__ = [
    '__version__', 'ODConv2d', 'ODConvAttention', 'IMPLS', 'set_temperature',
    'get_temperature', 'ODConvTemperatureHook'
]
