"""What MMPretrain's ImageNet configs for OD backbones need.

``configs/pretrain`` imports this module (``custom_imports``). It registers
the OD backbones, which MMPretrain's scope reaches as ``mmdet.ODResNet``
and the like through MMDetection's registry, and :class:`DropoutLinearClsHead`
in MMPretrain's registry. Needs MMPretrain 1.2, which needs a torchvision
built for the installed torch: ``pip install 'mmdet-odconv[mmpretrain]'``
on the torch 2.1 stack (docs/pretraining.md).
"""
try:
    from mmpretrain.models.heads import LinearClsHead
    from mmpretrain.registry import MODELS
except Exception as exc:  # ImportError, or a torchvision that fails to load
    raise ImportError(
        'mmdet_odconv.pretraining needs MMPretrain 1.2 and a torchvision '
        f'built for this torch ({type(exc).__name__}: {exc}). Install them '
        "with pip install 'mmdet-odconv[mmpretrain]' on the torch 2.1 "
        'stack (requirements/compat.txt); see docs/pretraining.md') from exc

from typing import Tuple

import torch
import torch.nn as nn

import mmdet_odconv  # noqa: F401  (registers the OD backbones and hooks)


@MODELS.register_module()
class DropoutLinearClsHead(LinearClsHead):
    """MMPretrain's ``LinearClsHead`` with dropout before its fc.

    The official OD-ResNet and OD-MobileNetV2 classifiers drop features
    before the last fc (``--dropout 0.2`` in the paper's recipe); the
    parameters are those of ``LinearClsHead``.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the pooled feature.
        dropout (float): Probability of zeroing a feature in training.
            Defaults to 0.2.
        **kwargs: Other ``LinearClsHead`` arguments.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 dropout: float = 0.2,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        if isinstance(dropout, bool) or not isinstance(
                dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(
                f'dropout must be a probability in [0, 1), got {dropout!r}')
        self.dropout = nn.Dropout(p=float(dropout))

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.dropout(super().pre_logits(feats))
