"""The ODConv layer, its attention, and helpers acting on whole models.

Needs torch only. With MMEngine installed, ``ODConv2d`` is registered in its
root ``MODELS`` registry as ``'ODConv'``, where MMCV's ``build_conv_layer``
finds it.
"""
from .attention import Attentions, ODConvAttention
from .convert import conv_geometry, convert_to_odconv
from .formulations import FORMULATIONS, IMPLS
from .odconv import ODConv2d
from .temperature import get_temperature, set_temperature

try:
    from mmengine.registry import MODELS
except ImportError:  # plain PyTorch use
    MODELS = None
if MODELS is not None:
    MODELS.register_module('ODConv', module=ODConv2d)

__all__ = [
    'ODConv2d', 'ODConvAttention', 'Attentions', 'FORMULATIONS', 'IMPLS',
    'convert_to_odconv', 'conv_geometry', 'set_temperature',
    'get_temperature'
]
