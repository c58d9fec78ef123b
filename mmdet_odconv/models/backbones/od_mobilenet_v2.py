"""MobileNetV2 with ODConv placed as in the paper's OD-MobileNetV2.

Every conv is ODConv (expansion 1x1, depthwise 3x3, projection 1x1 of each
inverted residual, and the last 1x1 conv) except the 3x3 stem.
"""
from typing import Optional

from mmdet.models.backbones import MobileNetV2
from mmdet.registry import MODELS

from ..placement import odconv_cfg, to_static_conv


@MODELS.register_module()
class ODMobileNetV2(MobileNetV2):
    """MobileNetV2 with ODConv everywhere but the stem.

    Args:
        odconv (dict, optional): ODConv2d arguments. Defaults to 4 kernels.
        **kwargs: MMDetection ``MobileNetV2`` arguments; ``conv_cfg`` sets
            the static stem conv.
    """

    def __init__(self,
                 odconv: Optional[dict] = dict(kernel_num=4),
                 **kwargs) -> None:
        static_cfg = kwargs.pop('conv_cfg', None)
        super().__init__(conv_cfg=odconv_cfg(odconv), **kwargs)
        self.conv1.conv = to_static_conv(self.conv1.conv, static_cfg)
        self.conv_cfg = static_cfg
        if self.frozen_stages >= 0:  # re-freeze the rebuilt stem
            self._freeze_stages()
