from .diagnostics_hook import ODConvDiagnosticsHook
from .temperature_hook import ODConvTemperatureHook

__all__ = ['ODConvTemperatureHook', 'ODConvDiagnosticsHook']
