"""ODConv in the CSP networks of MMDetection's real-time detectors.

The paper makes every conv of OD-ResNet and OD-MobileNetV2 dynamic except
the stem and the 1x1 projection shortcuts. In a CSP stage the partial
shortcut branch (``CSPLayer.short_conv``) plays the shortcut's role, so
:func:`place_odconv` turns every other conv of a CSP stage or neck into
ODConv. The channel attention's 1x1 conv (a squeeze-excitation on a pooled
vector, built without ``conv_cfg``) stays static. MMDetection's own
``conv_cfg`` cannot express this: it also reaches ``short_conv`` and misses
the first conv of every ``CSPNeXtBlock``.
"""
from typing import Optional, Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule, build_conv_layer
from mmdet.models.layers import CSPLayer

from ..layers import conv_geometry
from .backbones import placement
from .odconv_init import ODConvInitMixin


def odconv_like(conv: nn.Module, odconv_cfg: dict) -> nn.Module:
    """A freshly initialised ODConv with the geometry of ``conv``."""
    return build_conv_layer(odconv_cfg, **conv_geometry(conv))


def place_odconv(module: nn.Module, odconv_cfg: Optional[dict]) -> int:
    """Make the conv of every ``ConvModule`` under ``module`` ODConv.

    The ``short_conv`` of every ``CSPLayer`` (the partial shortcut) and
    convs outside a ``ConvModule`` stay as they are.

    Args:
        module (nn.Module): A stage, a neck or any module holding
            ``ConvModule`` s (depthwise separable ones included).
        odconv_cfg (dict, optional): Conv cfg of the dynamic convs, e.g.
            ``dict(type='ODConv', kernel_num=4)``; None changes nothing.

    Returns:
        int: The number of convs replaced.
    """
    if odconv_cfg is None:
        return 0
    shortcuts = {
        id(m.short_conv)
        for m in module.modules() if isinstance(m, CSPLayer)
    }
    replaced = 0
    for m in list(module.modules()):
        if isinstance(m, ConvModule) and id(m) not in shortcuts:
            m.conv = odconv_like(m.conv, odconv_cfg)
            replaced += 1
    return replaced


class ODConvCSPStagesMixin(ODConvInitMixin):
    """Places ODConv in the stages of a CSP backbone after it is built.

    For ``CSPNeXt`` and ``CSPDarknet``, whose ``layers`` list ``'stem'``
    and then ``'stage1'``, ``'stage2'``, ...; the stem stays static. Comes
    before the backbone class in the bases.
    """

    def __init__(self,
                 odconv: Optional[dict] = dict(kernel_num=4),
                 stage_with_odconv: Optional[Sequence[bool]] = None,
                 **kwargs) -> None:
        cfg = placement.odconv_cfg(odconv)
        super().__init__(**kwargs)
        self._place_odconv_in_stages(cfg, stage_with_odconv)

    def _place_odconv_in_stages(
            self, odconv_cfg: dict,
            stage_with_odconv: Optional[Sequence[bool]]) -> None:
        stages = [name for name in self.layers if name != 'stem']
        if stage_with_odconv is None:
            stage_with_odconv = (True, ) * len(stages)
        self.stage_with_odconv = tuple(stage_with_odconv)
        if len(self.stage_with_odconv) != len(stages):
            raise ValueError(
                f'stage_with_odconv has {len(self.stage_with_odconv)} '
                f'entries but the backbone has {len(stages)} stages; give '
                'one bool per stage, or None for all')
        self.odconv_cfg = odconv_cfg
        for name, with_odconv in zip(stages, self.stage_with_odconv):
            if with_odconv:
                place_odconv(getattr(self, name), odconv_cfg)
        self._freeze_stages()  # the new convs of frozen stages too
