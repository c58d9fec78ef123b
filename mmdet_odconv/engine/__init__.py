"""What ODConv adds to MMEngine's training loop."""
from .hooks import ODConvTemperatureHook

__all__ = ['ODConvTemperatureHook']
