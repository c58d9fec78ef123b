"""Where ODConv goes in MMDetection's models."""
from .backbones import (ODCSPDarknet, ODCSPNeXt, ODMobileNetV2, ODResNet,
                        ODResNeXt)
from .necks import ODCSPNeXtPAFPN, ODFPN

__all__ = [
    'ODResNet', 'ODResNeXt', 'ODMobileNetV2', 'ODCSPNeXt', 'ODCSPDarknet',
    'ODCSPNeXtPAFPN', 'ODFPN'
]
