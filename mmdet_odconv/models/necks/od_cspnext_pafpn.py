"""CSPNeXtPAFPN (RTMDet's neck) with ODConv, an ablation beyond the paper.

The backbones' rule applied to the neck: every conv is ODConv (the 1x1
reduce convs, the stride-2 downsample convs, the output convs and every
conv of the CSP layers) except the CSP layers' partial shortcut convs.
See ``..placement``.
"""
from typing import Optional

from mmdet.models.necks import CSPNeXtPAFPN
from mmdet.registry import MODELS

from ..placement import ODConvInitMixin, odconv_cfg, place_odconv


@MODELS.register_module()
class ODCSPNeXtPAFPN(ODConvInitMixin, CSPNeXtPAFPN):
    """CSPNeXtPAFPN whose convs are ODConv but the CSP shortcuts.

    Args:
        odconv (dict, optional): ODConv2d arguments, e.g.
            ``dict(kernel_num=4)``. Defaults to 4 kernels.
        **kwargs: MMDetection ``CSPNeXtPAFPN`` arguments; ``conv_cfg``
            sets the static CSP shortcut convs.
    """

    def __init__(self, odconv: Optional[dict] = dict(kernel_num=4),
                 **kwargs) -> None:
        cfg = odconv_cfg(odconv)
        super().__init__(**kwargs)
        self.odconv_cfg = cfg
        place_odconv(self, cfg)
