"""Where ODConv goes in MMDetection's models."""
from .backbones import ODMobileNetV2, ODResNet, ODResNeXt

__all__ = ['ODResNet', 'ODResNeXt', 'ODMobileNetV2']
