"""Where ODConv goes in MMDetection's backbones and necks.

What the registered backbones and necks share: the ODConv conv cfg built
from their ``odconv`` argument, the static convs the paper keeps, the CSP
placement, and the init mixin that keeps ODConv's own initialisation.

The paper makes every conv of OD-ResNet and OD-MobileNetV2 dynamic except
the stem and the 1x1 projection shortcuts. In a CSP stage the partial
shortcut branch (``CSPLayer.short_conv``) plays the shortcut's role, so
:func:`place_odconv` turns every other conv of a CSP stage or neck into
ODConv. The channel attention's 1x1 conv (a squeeze-excitation on a pooled
vector, built without ``conv_cfg``) stays static. MMDetection's own
``conv_cfg`` cannot express this: it also reaches ``short_conv`` and misses
the first conv of every ``CSPNeXtBlock``.
"""
import copy
from typing import Optional, Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule, build_conv_layer
from mmdet.models.layers import CSPLayer

from ..layers import ODConv2d, conv_geometry


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


def _loads_pretrained(init_cfg) -> bool:
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)


class ODConvInitMixin:
    """Re-initialises every ODConv after the parent's ``init_cfg`` ran.

    A parent's ``init_cfg`` such as ``dict(type='Kaiming', layer='Conv2d')``
    (CSPNeXt, CSPDarknet, CSPNeXtPAFPN) or ``dict(type='Xavier',
    layer='Conv2d')`` (FPN) reaches the ``nn.Conv2d`` heads of every
    ODConv's attention, and ``ConvModule.init_weights`` never calls the
    conv's own ``init_weights`` afterwards; without this mixin those heads
    would keep the parent's initialiser instead of the layer's.

    Put it before the MMEngine ``BaseModule`` class in the bases. Skipped
    when ``init_cfg`` loads a checkpoint: ODConv then takes its kernels
    from the checkpoint and sets its attention as a static checkpoint
    requires.
    """

    def init_weights(self) -> None:
        super().init_weights()
        if _loads_pretrained(self.init_cfg):
            return
        for m in self.modules():
            if isinstance(m, ODConv2d):
                m.init_weights()


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
        cfg = odconv_cfg(odconv)
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
