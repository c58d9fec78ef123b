"""ResNet and ResNeXt with ODConv placed as in the paper.

Every conv inside every residual block (both 3x3 convs of a BasicBlock; the
1x1, 3x3, 1x1 of a Bottleneck) is ODConv; the stem and the 1x1 shortcut
(downsample) convs stay static. To turn *every* conv into ODConv instead,
use MMDetection's own ``ResNet`` with ``conv_cfg=dict(type='ODConv')``.
"""
from typing import Optional, Sequence

from mmdet.models.backbones import ResNet, ResNeXt
from mmdet.registry import MODELS

from ..placement import odconv_cfg, to_static_conv


class ODConvResLayerMixin:
    """Builds the chosen stages' residual blocks with ODConv.

    Must come before the ResNet class in the bases; reads
    ``self.odconv_cfg`` and ``self.stage_with_odconv``, set before the
    ResNet ``__init__`` builds its stages (the ResNeXt recipe).
    """

    def _init_odconv(self, odconv: Optional[dict],
                     stage_with_odconv: Sequence[bool],
                     num_stages: int) -> None:
        self.odconv_cfg = odconv_cfg(odconv)
        self.stage_with_odconv = tuple(stage_with_odconv)
        if len(self.stage_with_odconv) != num_stages:
            raise ValueError(
                f'stage_with_odconv has {len(self.stage_with_odconv)} '
                f'entries but the backbone has num_stages={num_stages}; '
                'give one bool per stage')
        self._stages_built = 0

    def make_res_layer(self, **kwargs):
        stage = self._stages_built
        self._stages_built += 1
        if not self.stage_with_odconv[stage]:
            return super().make_res_layer(**kwargs)
        if kwargs.get('dcn') is not None:
            raise ValueError(
                f'stage {stage} asks for both ODConv (stage_with_odconv) and '
                "DCN (stage_with_dcn); MMDetection's blocks build DCN only "
                'with conv_cfg=None, so a stage takes one of them: set '
                f'stage_with_odconv[{stage}]=False or '
                f'stage_with_dcn[{stage}]=False')
        static_cfg = kwargs.get('conv_cfg')
        kwargs['conv_cfg'] = self.odconv_cfg
        res_layer = super().make_res_layer(**kwargs)
        for block in res_layer:
            if getattr(block, 'downsample', None) is not None:
                for i, m in enumerate(block.downsample):
                    block.downsample[i] = to_static_conv(m, static_cfg)
        return res_layer


@MODELS.register_module()
class ODResNet(ODConvResLayerMixin, ResNet):
    """ResNet whose residual blocks use ODConv (the paper's OD-ResNet).

    Args:
        odconv (dict, optional): ODConv2d arguments, e.g.
            ``dict(kernel_num=4, reduction=0.0625)``. Defaults to 4 kernels.
        stage_with_odconv (Sequence[bool]): Which stages use ODConv.
            Defaults to all four.
        **kwargs: MMDetection ``ResNet`` arguments; ``conv_cfg`` sets the
            static convs (stem, shortcuts).
    """

    def __init__(self,
                 depth: int,
                 odconv: Optional[dict] = dict(kernel_num=4),
                 stage_with_odconv: Sequence[bool] = (True, True, True,
                                                      True),
                 **kwargs) -> None:
        self._init_odconv(odconv, stage_with_odconv,
                          kwargs.get('num_stages', 4))
        super().__init__(depth, **kwargs)


@MODELS.register_module()
class ODResNeXt(ODConvResLayerMixin, ResNeXt):
    """ResNeXt whose residual blocks use ODConv; arguments as ODResNet."""

    def __init__(self,
                 odconv: Optional[dict] = dict(kernel_num=4),
                 stage_with_odconv: Sequence[bool] = (True, True, True,
                                                      True),
                 **kwargs) -> None:
        self._init_odconv(odconv, stage_with_odconv,
                          kwargs.get('num_stages', 4))
        super().__init__(**kwargs)
