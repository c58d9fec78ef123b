"""What ODConv adds to MMEngine's training loop."""
from .hooks import ODConvDiagnosticsHook, ODConvTemperatureHook

__all__ = ['ODConvTemperatureHook', 'ODConvDiagnosticsHook']
