"""mmdet-odconv: ODConv (ICLR 2022) for MMDetection.

Importing the package registers, in MMEngine's registries:

- ``ODConv`` (``ODConv2d``) as an MMCV conv layer, so
  ``conv_cfg=dict(type='ODConv')`` works in any backbone;
- ``ODResNet``, ``ODResNeXt``, ``ODMobileNetV2``: backbones with the paper's
  placement (stem and shortcut convs stay static);
- ``ODConvTemperatureHook``: a temperature annealing hook.
"""
from .evaluation.fast_coco import maybe_use_faster_coco_eval

maybe_use_faster_coco_eval()  # before anything imports MMDetection

from . import engine, layers, models  # noqa: E402,F401  (registration)
from .engine import ODConvTemperatureHook  # noqa: E402
from .layers import (IMPLS, ODConv2d, ODConvAttention,  # noqa: E402
                     get_temperature, set_temperature)
from .utils import register_safe_globals  # noqa: E402
from .version import __version__  # noqa: E402

register_safe_globals()

__all__ = [
    '__version__', 'ODConv2d', 'ODConvAttention', 'IMPLS', 'set_temperature',
    'get_temperature', 'ODConvTemperatureHook'
]
