"""Keeps ODConv's own initialisation inside MMCV ``ConvModule`` s.

A parent's ``init_cfg`` such as ``dict(type='Kaiming', layer='Conv2d')``
(CSPNeXt, CSPDarknet, CSPNeXtPAFPN) or ``dict(type='Xavier',
layer='Conv2d')`` (FPN) reaches the ``nn.Conv2d`` heads of every ODConv's
attention, and ``ConvModule.init_weights`` never calls the conv's own
``init_weights`` afterwards; so without this mixin those heads keep the
parent's initialiser instead of the layer's.
"""
from ..layers import ODConv2d


def _loads_pretrained(init_cfg) -> bool:
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(
        isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)


class ODConvInitMixin:
    """Re-initialises every ODConv after the parent's ``init_cfg`` ran.

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
