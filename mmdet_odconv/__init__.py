"""mmdet-odconv: ODConv (ICLR 2022) for MMDetection and for plain PyTorch.

``ODConv2d``, ``convert_to_odconv`` and the temperature helpers need torch
only. Where MMEngine, MMCV and MMDetection are installed, importing the
package also registers, in MMEngine's registries:

- ``ODConv`` (``ODConv2d``) as a conv layer: ``conv_cfg=dict(type='ODConv')``;
- ``ODResNet``, ``ODResNeXt``, ``ODMobileNetV2``, ``ODCSPNeXt``,
  ``ODCSPDarknet``: backbones with the paper's placement (stem and shortcut
  convs stay static), and ``ODFPN``, ``ODCSPNeXtPAFPN``: necks with ODConv;
- ``ODConvTemperatureHook``: a temperature annealing hook, and
  ``ODConvDiagnosticsHook``: attention statistics and gradient norms in
  the training log (off unless a config adds it);

allow-lists the objects MMEngine stores in its checkpoints for torch's
``weights_only`` loading (the default since torch 2.6), so that resuming
and testing MMEngine checkpoints work; and, with MMEngine, lets config files
inherit ``mmdet_odconv::`` bases. Nothing else happens at import.
"""
from .config_scope import register_config_scope
from .layers import (FORMULATIONS, IMPLS, ODConv2d,  # noqa: F401
                     ODConvAttention, convert_to_odconv, get_temperature,
                     set_temperature)
from .version import __version__  # noqa: F401

# What needs the OpenMMLab stack.
_MMDET_NAMES = ('ODResNet', 'ODResNeXt', 'ODMobileNetV2', 'ODCSPNeXt',
                'ODCSPDarknet', 'ODFPN', 'ODCSPNeXtPAFPN',
                'ODConvTemperatureHook', 'ODConvDiagnosticsHook')

try:
    import mmcv  # noqa: F401
    import mmdet  # noqa: F401
    import mmengine  # noqa: F401
except ImportError as e:  # plain PyTorch use: the layer alone
    _STACK_ERROR = e
else:
    _STACK_ERROR = None
    from . import engine, models  # noqa: F401  (registration)
    from .engine import (ODConvDiagnosticsHook,  # noqa: F401
                         ODConvTemperatureHook)
    from .models import (ODCSPDarknet, ODCSPNeXt,  # noqa: F401
                         ODCSPNeXtPAFPN, ODFPN, ODMobileNetV2, ODResNet,
                         ODResNeXt)
    from .checkpoints.safe_load import register_safe_globals

    register_safe_globals()

register_config_scope()  # `mmdet_odconv::` config bases, with MMEngine


def __getattr__(name: str):
    """Name the missing package when an MMDetection-only part is used."""
    if name in _MMDET_NAMES and _STACK_ERROR is not None:
        raise ImportError(
            f'mmdet_odconv.{name} needs MMDetection, MMCV and MMEngine '
            f'({_STACK_ERROR}); install them with '
            "pip install 'mmdet-odconv[mmdet]' (see docs/install.md)"
        ) from _STACK_ERROR
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    '__version__', 'ODConv2d', 'ODConvAttention', 'FORMULATIONS', 'IMPLS',
    'convert_to_odconv', 'set_temperature', 'get_temperature'
] + ([] if _STACK_ERROR else list(_MMDET_NAMES))
