"""Backbones with the paper's ODConv placement."""
from .od_csp_darknet import ODCSPDarknet
from .od_cspnext import ODCSPNeXt
from .od_mobilenet_v2 import ODMobileNetV2
from .od_resnet import ODResNet, ODResNeXt

__all__ = [
    'ODResNet', 'ODResNeXt', 'ODMobileNetV2', 'ODCSPNeXt', 'ODCSPDarknet'
]
