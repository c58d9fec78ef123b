"""Shared helpers for putting ODConv into existing backbones."""
import copy
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_conv_layer

from ...layers import ODConv2d, conv_geometry


def odconv_cfg(odconv: Optional[dict]) -> dict:
    """A conv cfg for ODConv from the backbone's ``odconv`` argument.

    ``odconv`` holds ODConv2d's keyword arguments (``kernel_num``,
    ``reduction``, ...); ``type`` defaults to ``'ODConv'``.
    """
    if odconv is None:
        odconv = {}
    if not isinstance(odconv, dict):
        raise TypeError('odconv must be a dict of ODConv2d arguments, e.g. '
                        f'dict(kernel_num=4), got {type(odconv).__name__}')
    cfg = dict(type='ODConv')
    cfg.update(copy.deepcopy(odconv))
    return cfg


def to_static_conv(conv: nn.Module, conv_cfg: Optional[dict]) -> nn.Module:
    """Rebuild an ODConv2d as a static conv of the same geometry.

    Used for the convs the paper keeps static (stem, shortcut). Other
    modules are returned unchanged.
    """
    if not isinstance(conv, ODConv2d):
        return conv
    return build_conv_layer(conv_cfg, **conv_geometry(conv))
