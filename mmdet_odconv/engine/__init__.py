"""Runtime pieces for MMEngine runners."""
from .hooks import ODConvTemperatureHook

__all__ = ['ODConvTemperatureHook']
