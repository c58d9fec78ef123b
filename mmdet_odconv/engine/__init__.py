"""Runtime pieces for MMEngine runners (hooks)."""
from .hooks import DDPConsistencyHook, ODConvTemperatureHook, RNGStateHook

__all__ = ['ODConvTemperatureHook', 'RNGStateHook', 'DDPConsistencyHook']
