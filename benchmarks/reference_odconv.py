"""Reference ODConv: the official code's batch-folded formulation.

``FoldedODConv2d`` computes ODConv as https://github.com/OSVAI/ODConv
(``modules/odconv.py``) does, with the state dict of
``mmdet_odconv.ODConv2d``; only one sample in training normalises with the
BN running statistics (as ``ODConv2d``), so that B=1 can be timed.
"""
import copy
from typing import Callable, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.utils import _pair

Att = Union[torch.Tensor, float]


class FoldedAttention(nn.Module):
    """The official ODConv attention (same submodule names as ours): the
    squeeze is ``max(int(in_channels * reduction), min_channel)`` wide."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 groups: int = 1, reduction: float = 0.0625,
                 kernel_num: int = 4, min_channel: int = 16,
                 temperature: float = 1.0) -> None:
        super().__init__()
        width = max(int(in_channels * reduction), min_channel)
        self.kernel_size = kernel_size
        self.kernel_num = kernel_num
        self.temperature = float(temperature)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn: nn.Module = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.channel_fc = nn.Conv2d(width, in_channels, 1, bias=True)
        if not (in_channels == groups == out_channels):
            self.filter_fc = nn.Conv2d(width, out_channels, 1, bias=True)
        if kernel_size > 1:
            self.spatial_fc = nn.Conv2d(width, kernel_size**2, 1, bias=True)
        if kernel_num > 1:
            self.kernel_fc = nn.Conv2d(width, kernel_num, 1, bias=True)

    def _norm(self, s: torch.Tensor) -> torch.Tensor:
        """Squeeze norm; one sample in training uses running statistics."""
        bn = self.bn
        if (self.training and s.size(0) == 1 and isinstance(bn, _BatchNorm)
                and bn.track_running_stats):
            return F.batch_norm(s, bn.running_mean, bn.running_var, bn.weight,
                                bn.bias, False, 0.0, bn.eps)
        return bn(s)

    def forward(self, x: torch.Tensor) -> Tuple[Att, Att, Att, Att]:
        """Channel (B, C_in, 1, 1), filter (B, C_out, 1, 1), spatial
        (B, 1, 1, 1, k, k) and kernel (B, n, 1, 1, 1, 1) attentions: the
        sigmoid (softmax over the bank for the kernel) of each head's
        logits over the temperature; an absent head gives ``1.0``."""
        b, k = x.size(0), self.kernel_size
        s = self.relu(self._norm(self.fc(self.avgpool(x))))

        def head(name: str, shape: tuple, act: Callable) -> Att:
            fc = getattr(self, name, None)
            return 1.0 if fc is None else act(fc(s).view(shape) /
                                              self.temperature)

        return (head('channel_fc', (b, -1, 1, 1), torch.sigmoid),
                head('filter_fc', (b, -1, 1, 1), torch.sigmoid),
                head('spatial_fc', (b, 1, 1, 1, k, k), torch.sigmoid),
                head('kernel_fc', (b, -1, 1, 1, 1, 1),
                     lambda t: torch.softmax(t, dim=1)))


class FoldedODConv2d(nn.Module):
    """ODConv computed as the official code does (batch folded in groups);
    the arguments and state dict of ``ODConv2d``, square kernels only."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, dilation: int = 1,
                 groups: int = 1, bias: bool = False, kernel_num: int = 4,
                 reduction: float = 0.0625, min_channel: int = 16,
                 temperature: float = 1.0) -> None:
        super().__init__()
        ks = _pair(kernel_size)
        if ks[0] != ks[1]:
            raise ValueError(f'square kernels only, got {kernel_size}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.groups = ks[0], groups
        self.kernel_num = kernel_num
        self.stride, self.padding, self.dilation = map(
            _pair, (stride, padding, dilation))
        self.attention = FoldedAttention(in_channels, out_channels, ks[0],
                                         groups, reduction, kernel_num,
                                         min_channel, temperature)
        self.weight = nn.Parameter(
            torch.randn(kernel_num, out_channels, in_channels // groups, ks[0],
                        ks[1]) * 0.01)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    @classmethod
    def from_odconv(cls, layer: nn.Module) -> 'FoldedODConv2d':
        """The reference of an ``ODConv2d``: copies of its weights and of
        its attention submodules (whatever squeeze width and norm)."""
        att = layer.attention
        ref = cls(layer.in_channels, layer.out_channels, layer.kernel_size,
                  layer.stride, layer.padding, layer.dilation, layer.groups,
                  layer.bias is not None, layer.kernel_num, min_channel=1,
                  temperature=float(att.temperature))
        for name in ('fc', 'bn', 'channel_fc', 'filter_fc', 'spatial_fc',
                     'kernel_fc'):
            if hasattr(ref.attention, name):
                delattr(ref.attention, name)
            if hasattr(att, name):
                setattr(ref.attention, name, copy.deepcopy(getattr(att, name)))
        ref.load_state_dict(layer.state_dict())
        return ref.train(layer.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ODConv; ``x`` is (B, C_in, H, W)."""
        channel, filt, spatial, kernel = self.attention(x)
        if self.kernel_num == 1 and self.kernel_size == 1:
            out = F.conv2d(x * channel, self.weight.squeeze(0), None,
                           self.stride, self.padding, self.dilation,
                           self.groups)
        else:
            batch, c_in, h, w = x.shape
            x = (x * channel).reshape(1, batch * c_in, h, w)
            aggregate = spatial * kernel * self.weight.unsqueeze(0)
            aggregate = torch.sum(
                aggregate, dim=1).view(-1, c_in // self.groups,
                                       self.kernel_size, self.kernel_size)
            out = F.conv2d(x, aggregate, None, self.stride, self.padding,
                           self.dilation, self.groups * batch)
            out = out.view(batch, self.out_channels, out.size(-2),
                           out.size(-1))
        out = out * filt
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out
