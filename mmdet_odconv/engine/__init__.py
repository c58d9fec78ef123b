"""Runtime pieces for MMEngine runners (hooks)."""
from .hooks import DDPConsistencyHook, ODConvTemperatureHook, RNGStateHook
from .optim_wrapper import BF16AutocastOptimWrapper

__all__ = [
    'ODConvTemperatureHook', 'RNGStateHook', 'DDPConsistencyHook',
    'BF16AutocastOptimWrapper'
]
