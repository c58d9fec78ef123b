from .temperature_hook import ODConvTemperatureHook

__all__ = ['ODConvTemperatureHook']
