"""FPN with every conv ODConv, an ablation beyond the paper.

MMDetection's ``FPN(conv_cfg=dict(type='ODConv'))`` builds the same convs;
this subclass also keeps ODConv's own initialisation, which FPN's Xavier
``init_cfg`` would otherwise overwrite in the attention (see
``..placement``).
"""
from typing import Optional

from mmdet.models.necks import FPN
from mmdet.registry import MODELS

from ..placement import ODConvInitMixin, odconv_cfg


@MODELS.register_module()
class ODFPN(ODConvInitMixin, FPN):
    """FPN whose lateral, output and extra convs are all ODConv.

    Args:
        odconv (dict, optional): ODConv2d arguments, e.g.
            ``dict(kernel_num=4)``. Defaults to 4 kernels.
        **kwargs: MMDetection ``FPN`` arguments but ``conv_cfg``.
    """

    def __init__(self, odconv: Optional[dict] = dict(kernel_num=4),
                 **kwargs) -> None:
        if kwargs.get('conv_cfg') is not None:
            raise ValueError(
                'ODFPN makes every conv ODConv, so it takes no conv_cfg '
                f"(got {kwargs['conv_cfg']}); set its ODConv arguments "
                'with odconv=dict(...)')
        kwargs['conv_cfg'] = odconv_cfg(odconv)
        super().__init__(**kwargs)
        self.odconv_cfg = kwargs['conv_cfg']
