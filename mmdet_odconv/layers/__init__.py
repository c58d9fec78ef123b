"""The ODConv layer and helpers that act on every ODConv in a model."""
from .odconv import IMPLS, ODConv2d, ODConvAttention
from .temperature import get_temperature, set_temperature

__all__ = [
    'ODConv2d', 'ODConvAttention', 'IMPLS', 'set_temperature',
    'get_temperature'
]
