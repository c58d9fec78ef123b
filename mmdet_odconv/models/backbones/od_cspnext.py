"""CSPNeXt (RTMDet's backbone) with ODConv placed as in the paper.

Every conv of every stage is ODConv (the stride-2 transition conv, the SPP
convs, the CSP layer's main and final 1x1 convs and both convs of each
``CSPNeXtBlock``) except the CSP layer's partial shortcut conv; the stem
and the channel attention stay static. See ``..placement``.
"""
from mmdet.models.backbones import CSPNeXt
from mmdet.registry import MODELS

from ..placement import ODConvCSPStagesMixin


@MODELS.register_module()
class ODCSPNeXt(ODConvCSPStagesMixin, CSPNeXt):
    """CSPNeXt whose stages use ODConv (stem and CSP shortcuts static).

    A static CSPNeXt checkpoint (e.g. RTMDet's ImageNet one) loads into it:
    each ODConv then starts as the static conv it replaces.

    Args:
        odconv (dict, optional): ODConv2d arguments, e.g.
            ``dict(kernel_num=4, reduction=0.0625)``. Defaults to 4 kernels.
        stage_with_odconv (Sequence[bool], optional): Which stages use
            ODConv, one bool per stage. Defaults to None (all).
        **kwargs: MMDetection ``CSPNeXt`` arguments; ``conv_cfg`` sets the
            static CSP shortcut convs (CSPNeXt builds its stem without it).
    """
