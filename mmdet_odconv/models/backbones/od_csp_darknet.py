"""CSPDarknet (YOLOX's backbone) with ODConv placed as in the paper.

Every conv of every stage is ODConv (the stride-2 transition conv, the SPP
convs, the CSP layer's main and final 1x1 convs and both convs of each
``DarknetBottleneck``) except the CSP layer's partial shortcut conv; the
Focus stem stays static. See ``..placement``.
"""
from mmdet.models.backbones import CSPDarknet
from mmdet.registry import MODELS

from ..placement import ODConvCSPStagesMixin


@MODELS.register_module()
class ODCSPDarknet(ODConvCSPStagesMixin, CSPDarknet):
    """CSPDarknet whose stages use ODConv (stem and CSP shortcuts static).

    Args:
        odconv (dict, optional): ODConv2d arguments, e.g.
            ``dict(kernel_num=4, reduction=0.0625)``. Defaults to 4 kernels.
        stage_with_odconv (Sequence[bool], optional): Which stages use
            ODConv, one bool per stage. Defaults to None (all).
        **kwargs: MMDetection ``CSPDarknet`` arguments; ``conv_cfg`` sets
            the static convs (the Focus stem, the CSP shortcuts).
    """
