from .ddp_check_hook import DDPConsistencyHook
from .rng_state_hook import RNGStateHook
from .temperature_hook import ODConvTemperatureHook

__all__ = ['ODConvTemperatureHook', 'RNGStateHook', 'DDPConsistencyHook']
