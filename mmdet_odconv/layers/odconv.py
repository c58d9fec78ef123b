"""ODConv: Omni-Dimensional Dynamic Convolution as an MMCV conv layer.

Paper: Li, Zhou and Yao, "Omni-Dimensional Dynamic Convolution", ICLR 2022,
https://arxiv.org/abs/2209.07947.

``ODConv2d`` keeps the official implementation's parameter names and shapes
(so its checkpoints load with ``strict=True``) but computes the same function
with cheaper, shape-dependent formulations; see ``ODConv2d.forward``.
"""
import logging
import math
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm
from torch.nn.modules.utils import _pair

from ._compat import autocast_dtype, autocast_enabled

IntOrPair = Union[int, Tuple[int, int]]

# Formulations of the per-sample convolution; see ODConv2d.forward.
IMPLS = ('auto', 'static', 'single', 'matmul', 'loop', 'grouped', 'unfold')


class ODConvAttention(nn.Module):
    """The four attentions of ODConv, computed from one squeezed descriptor.

    Global average pool -> 1x1 FC -> norm -> ReLU, then one head per
    dimension: input channels, output filters, spatial taps (sigmoids) and
    the kernel bank (softmax). Logits are divided by ``temperature``.
    Heads that would carry no information are not created (filter head for a
    depthwise conv, spatial head for a 1x1 conv, kernel head for one kernel),
    so DDP never sees unused parameters.

    Args:
        in_channels (int): Input channels of the convolution.
        out_channels (int): Output channels of the convolution.
        kernel_size (tuple[int, int]): Kernel size of the convolution.
        groups (int): Groups of the convolution.
        reduction (float): Squeeze width as a fraction of ``in_channels``.
        kernel_num (int): Number of kernels in the bank.
        min_channel (int): Lower bound of the squeeze width.
        norm_cfg (dict, optional): Norm after the squeeze FC; ``None`` for
            none. Defaults to BN, as the official code.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: Tuple[int, int],
                 groups: int = 1,
                 reduction: float = 0.0625,
                 kernel_num: int = 4,
                 min_channel: int = 16,
                 norm_cfg: Optional[dict] = dict(type='BN')) -> None:
        super().__init__()
        width = max(int(in_channels * reduction), min_channel)
        self.kernel_size = kernel_size
        self.kernel_num = kernel_num
        self.temperature = 1.0
        self.fc = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn = _build_norm(norm_cfg, width)
        self.relu = nn.ReLU(inplace=True)
        self.channel_fc = nn.Conv2d(width, in_channels, 1, bias=True)
        if not (in_channels == groups == out_channels):
            self.filter_fc = nn.Conv2d(width, out_channels, 1, bias=True)
        if kernel_size[0] * kernel_size[1] > 1:
            self.spatial_fc = nn.Conv2d(
                width, kernel_size[0] * kernel_size[1], 1, bias=True)
        if kernel_num > 1:
            self.kernel_fc = nn.Conv2d(width, kernel_num, 1, bias=True)
        # Fixed at construction; forward reads these instead of probing
        # submodules (nn.Module attribute lookups cost microseconds each).
        self._sigmoid_heads = tuple(
            k for k in ('channel_fc', 'filter_fc', 'spatial_fc')
            if k in self._modules)
        self._has_kernel_head = 'kernel_fc' in self._modules
        self.init_weights()

    def init_weights(self) -> None:
        """Kaiming-normal (fan_out, relu) FCs, zero biases, unit norm."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(
                    m.weight, mode='fan_out', nonlinearity='relu')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (_BatchNorm, nn.GroupNorm, nn.LayerNorm)):
                if getattr(m, 'weight', None) is not None:
                    nn.init.ones_(m.weight)
                if getattr(m, 'bias', None) is not None:
                    nn.init.zeros_(m.bias)

    def _norm(self, s: torch.Tensor) -> torch.Tensor:
        """Normalise the squeezed (B, C) descriptor.

        A BN in eval mode, or given one sample in training, normalises with
        its running statistics (and leaves them unchanged; so batch size 1
        trains instead of failing), called functionally on the 2-D
        descriptor: no module call and no reshapes, which matter in this
        layer's fixed cost. A SyncBN in a distributed run always goes
        through its module, whose statistics span every process.
        """
        bn = self.bn
        if (isinstance(bn, _BatchNorm) and bn.track_running_stats
                and (not bn.training or
                     (s.size(0) == 1 and not _synced_across_processes(bn)))):
            return F.batch_norm(s, _as(bn.running_mean, s.dtype),
                                _as(bn.running_var, s.dtype),
                                _as(bn.weight, s.dtype),
                                _as(bn.bias, s.dtype), False, 0.0, bn.eps)
        weight = getattr(bn, 'weight', None)
        if isinstance(weight, torch.Tensor) and weight.dtype != s.dtype:
            # a half / bfloat16 model: the norm runs in its own dtype
            return self._norm_module(s.to(weight.dtype)).to(s.dtype)
        return self._norm_module(s)

    def _norm_module(self, s: torch.Tensor) -> torch.Tensor:
        bn = self.bn
        if isinstance(bn, (nn.LayerNorm, nn.Identity, nn.BatchNorm1d)):
            return bn(s)
        return bn(s[:, :, None, None]).flatten(1)

    def forward(
        self, x: torch.Tensor
    ) -> Tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor],
               Optional[torch.Tensor]]:
        """Return channel (B, C_in), filter (B, C_out), spatial (B, kh*kw)
        and kernel (B, n) attentions in float32; absent heads give None.

        The sigmoid heads share one sigmoid on their concatenated logits: a
        handful of small ops in all, which is most of the layer's fixed cost
        at batch 1 on small feature maps.
        """
        if autocast_enabled(x.device.type):
            with torch.autocast(x.device.type, enabled=False):
                return self._attend(x)
        return self._attend(x)

    def _attend(
        self, x: torch.Tensor
    ) -> Tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor],
               Optional[torch.Tensor]]:
        mods = self._modules
        dtype = _attention_dtype(x.dtype)
        # The mean accumulates in float32 without a float32 copy of x.
        s = x.mean((2, 3), dtype=dtype)
        fc = mods['fc']  # its bias is None unless a BN was fused into it
        s = F.linear(s, _as(fc.weight.flatten(1), dtype), _as(fc.bias, dtype))
        s = self.relu(self._norm(s))
        t = self.temperature
        logits = [
            F.linear(s, _as(mods[k].weight.flatten(1), dtype),
                     _as(mods[k].bias, dtype)) for k in self._sigmoid_heads
        ]
        sig = torch.cat(logits, 1)
        sig = torch.sigmoid(sig if t == 1.0 else sig / t)
        kernel = None
        if self._has_kernel_head:
            fc = mods['kernel_fc']
            k = F.linear(s, _as(fc.weight.flatten(1), dtype),
                         _as(fc.bias, dtype))
            kernel = torch.softmax(k if t == 1.0 else k / t, dim=1)
        out = dict(zip(self._sigmoid_heads,
                       sig.split([g.size(1) for g in logits], 1)))
        return (out['channel_fc'], out.get('filter_fc'),
                out.get('spatial_fc'), kernel)


def _aggregate_bank(kernel: torch.Tensor,
                    bank: torch.Tensor) -> torch.Tensor:
    """``kernel (B, n) @ bank (n, K)`` in float32 even under autocast.

    Autocast would run this matmul in bf16/fp16, rounding the bank and
    adding a cast of it (and of its gradient) per call: slower on the CPU
    (a 9.4 MB bank is read twice) and less precise than the float32 kernel
    the conv then casts once.
    """
    if autocast_enabled(bank.device.type):
        with torch.autocast(bank.device.type, enabled=False):
            return kernel @ bank
    return kernel @ bank


def _attention_dtype(dtype: torch.dtype) -> torch.dtype:
    """Attentions are computed in float32 (float64 for float64 models)."""
    return torch.promote_types(dtype, torch.float32)


def _as(t: Optional[torch.Tensor],
        dtype: torch.dtype) -> Optional[torch.Tensor]:
    """``t`` in ``dtype`` (no copy when it already is; None stays None)."""
    return t if t is None or t.dtype == dtype else t.to(dtype)


def _synced_across_processes(bn: nn.Module) -> bool:
    """Whether ``bn`` is a SyncBN whose statistics span several processes."""
    return (isinstance(bn, nn.SyncBatchNorm)
            and torch.distributed.is_available()
            and torch.distributed.is_initialized()
            and torch.distributed.get_world_size() > 1)


def _build_norm(norm_cfg: Optional[dict], channels: int) -> nn.Module:
    """Build the squeeze norm from an MMCV norm cfg (None -> identity).

    The norm sees one value per channel and sample (the squeezed
    descriptor), so norms over spatial positions are refused up front.
    """
    if norm_cfg is None:
        return nn.Identity()
    from mmcv.cnn import build_norm_layer
    norm = build_norm_layer(norm_cfg, channels)[1]
    if isinstance(norm, (_InstanceNorm, nn.BatchNorm3d)):
        raise ValueError(
            f'attention_norm_cfg={norm_cfg!r} builds a '
            f'{type(norm).__name__}, which cannot normalise the squeezed '
            '(B, C) descriptor (an instance norm would normalise each '
            'channel over a single value); use BN (the official choice), '
            'SyncBN, GN, LN or None.')
    return norm


@MODELS.register_module('ODConv')
class ODConv2d(nn.Module):
    """Omni-Dimensional Dynamic Convolution, a drop-in for ``nn.Conv2d``.

    Each sample gets its own kernel
    ``sum_i a_kernel[i] * a_spatial * a_channel * a_filter * W_i`` where the
    attentions come from ``ODConvAttention``. Built by MMCV's
    ``build_conv_layer(dict(type='ODConv', kernel_num=4), ...)`` and usable as
    ``conv_cfg`` of any backbone that takes one.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int or tuple): Square kernel size.
        stride, padding, dilation (int or tuple): As in ``nn.Conv2d``.
        groups (int): As in ``nn.Conv2d``. Defaults to 1.
        bias (bool): Add a plain, static, learnable bias of ``out_channels``
            after the filter attention (it is not aggregated over the bank;
            the official code has none). Defaults to False.
        kernel_num (int): Number of kernels ``n`` in the bank. Defaults to 4.
        reduction (float): Squeeze width ratio. Defaults to 0.0625.
        min_channel (int): Minimum squeeze width. Defaults to 16.
        temperature (float): Initial attention temperature. Defaults to 1.
        attention_norm_cfg (dict, optional): Norm of the squeeze. Defaults to
            ``dict(type='BN')`` (official, checkpoint-compatible).
        impl (str): Formulation of the per-sample convolution, one of
            ``IMPLS``; ``'auto'`` picks the fastest exact one by shape.
    """

    # Recorded by nn.Module in every state dict's metadata, so that a
    # future change of the parameter layout can convert old checkpoints in
    # _load_from_state_dict (local_metadata['version']).
    _version = 1
    # Per device type, an upper bound in bytes on the per-sample kernels
    # the ``grouped`` path builds at once; larger batches go in chunks of
    # samples. Chosen on the CPU from a sweep of 1-8 samples per chunk
    # (benchmarks/sweep_kernel_bytes.py) on a 2-core Xeon: at 256x256x3x3
    # (2.4 MB per kernel) and B=32, chunks of 8 ran 1.8x faster than the
    # whole batch in eval and 1.6x in training; 64x64x3x3 kernels (4.7 MB
    # for B=32) stay one chunk. Devices not listed (CUDA: not measured yet)
    # build the whole batch at once.
    kernel_bytes = {'cpu': 24 << 20}
    # Attributes MMCV's ConvModule and other nn.Conv2d users read.
    transposed = False
    output_padding = (0, 0)
    padding_mode = 'zeros'

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: IntOrPair,
                 stride: IntOrPair = 1,
                 padding: IntOrPair = 0,
                 dilation: IntOrPair = 1,
                 groups: int = 1,
                 bias: bool = False,
                 kernel_num: int = 4,
                 reduction: float = 0.0625,
                 min_channel: int = 16,
                 temperature: float = 1.0,
                 attention_norm_cfg: Optional[dict] = dict(type='BN'),
                 impl: str = 'auto') -> None:
        super().__init__()
        _check_args(in_channels, out_channels, kernel_size, groups,
                    kernel_num, reduction, min_channel, temperature, impl)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        if self.kernel_size[0] != self.kernel_size[1]:
            raise ValueError('ODConv2d supports square kernels only, got '
                             f'kernel_size={kernel_size}')
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.kernel_num = kernel_num
        if impl == 'static' and not (kernel_num == 1
                                     and self.kernel_size == (1, 1)):
            raise ValueError("impl='static' needs kernel_num=1 and a 1x1 "
                             f'kernel, got kernel_num={kernel_num}, '
                             f'kernel_size={self.kernel_size}')
        self.impl = impl
        self.attention = ODConvAttention(
            in_channels,
            out_channels,
            self.kernel_size,
            groups=groups,
            reduction=reduction,
            kernel_num=kernel_num,
            min_channel=min_channel,
            norm_cfg=attention_norm_cfg)
        self.attention.temperature = float(temperature)
        self.weight = nn.Parameter(
            torch.empty(kernel_num, out_channels, in_channels // groups,
                        *self.kernel_size))
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_channels))
        else:
            self.register_parameter('bias', None)
        self.init_weights()

    # ------------------------------------------------------------------ init
    def init_weights(self) -> None:
        """Kaiming-normal (fan_out, relu) per kernel, as the official code.

        Defined so that MMCV's ConvModule and MMEngine's BaseModule parents
        call it (after any generic ``init_cfg``) instead of applying their own
        initialiser, which would compute the wrong fan for a 5-D bank.
        """
        for i in range(self.kernel_num):
            nn.init.kaiming_normal_(
                self.weight.data[i], mode='fan_out', nonlinearity='relu')
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self.attention.init_weights()

    # ----------------------------------------------------------- temperature
    @property
    def temperature(self) -> float:
        return self.attention.temperature

    def set_temperature(self, temperature: float) -> None:
        """Set the attention temperature (logits are divided by it)."""
        if not temperature > 0:
            raise ValueError(
                f'temperature must be > 0, got {temperature}')
        self.attention.temperature = float(temperature)

    # --------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ODConv.

        Args:
            x (Tensor): Input of shape (B, C_in, H, W).

        Returns:
            Tensor: Output of shape (B, C_out, H_out, W_out).

        The result equals the official formulation (batch folded into the
        groups of one conv); ``impl`` only changes how it is computed:

        - ``static``: the kernel is the same for every sample (one kernel,
          1x1): channel attention scales the input, filter attention the
          output, around one ordinary conv.
        - ``single``: B == 1, one ordinary conv with the sample's kernel.
        - ``matmul``: 1x1 convs with groups=1 and no padding, a batched
          matmul.
        - ``loop``: one ordinary conv per sample.
        - ``grouped``: the batch folded into the groups of one conv, as the
          official code, but with the bank aggregated by one matmul, and
          at most ``kernel_bytes`` of per-sample kernels at a time (larger
          batches go in chunks of samples).
        - ``unfold``: im2col and a batched matmul; nothing depends on the
          batch size at trace time (ONNX export with a dynamic batch).
        """
        self._check_input(x)
        if x.size(0) == 0:  # empty batch (e.g. some RoI paths): no attention
            out = self._conv(x, self.weight[0].to(self._compute_dtype(x)))
            return out if self.bias is None else out + self.bias.view(
                1, -1, 1, 1)
        channel, filt, spatial, kernel = self.attention(x)
        impl = self._choose_impl(x) if self.impl == 'auto' else self.impl
        if impl == 'static':
            out = self._forward_static(x, channel, filt)
        else:
            out = self._forward_dynamic(impl, x, channel, filt, spatial,
                                        kernel)
        if self.bias is not None:
            out = out + self.bias.to(out.dtype).view(1, -1, 1, 1)
        return out

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4:
            raise ValueError('ODConv2d expects a 4-D input (B, C, H, W), '
                             f'got a {x.dim()}-D tensor of shape '
                             f'{tuple(x.shape)}')
        if x.size(1) != self.in_channels:
            raise ValueError(f'ODConv2d built with in_channels='
                             f'{self.in_channels} got an input with '
                             f'{x.size(1)} channels (shape {tuple(x.shape)})')

    def _kernel_is_static(self) -> bool:
        """Whether the kernel is the same for every sample."""
        return self.kernel_num == 1 and self.kernel_size == (1, 1)

    def _choose_impl(self, x: torch.Tensor) -> str:
        """Deterministic choice of formulation from shapes alone.

        Measured on a 2-core CPU (benchmarks/results/cpu_layer.md): for 1x1
        convs, per-sample kernels with the channel and filter attentions
        folded in and a batched matmul beat both the grouped conv and a
        static conv that scales the (larger) activations; for k > 1 one
        ordinary conv serves a single sample, and the grouped conv over the
        batch (bank aggregated by a matmul, never materialised per kernel;
        batch chunks bounded by ``kernel_bytes``) is as fast as a loop of
        convs at B = 2 and up to 2x faster at B >= 8.
        """
        if self._matmul_ok():
            return 'matmul'
        if self._kernel_is_static():
            return 'static'
        if x.size(0) == 1:
            return 'single'
        return 'grouped'

    def _forward_static(self, x, channel, filt):
        """Static kernel (n == 1, 1x1): attentions act on activations."""
        out = self._conv(x * channel.to(x.dtype)[:, :, None, None],
                         self.weight[0].to(self._compute_dtype(x)))
        if filt is not None:
            out = out * filt.to(out.dtype)[:, :, None, None]
        return out

    def _sample_kernels(self, channel, filt, spatial, kernel,
                        fold: bool) -> torch.Tensor:
        """Per-sample kernels (B, C_out, C_in/g, kh, kw) in float32.

        The bank is aggregated by one matmul over n. With ``fold`` the
        channel and filter attentions are folded into the kernel too, which
        is cheaper than scaling activations when H*W is large.
        """
        n, c_out, c_in_g, kh, kw = self.weight.shape
        batch = channel.size(0)
        weight = self.weight.to(_attention_dtype(self.weight.dtype))
        # Without autograd, scalings after the first new tensor are done in
        # place: no second kernel-sized buffer to write (inference).
        in_place = not torch.is_grad_enabled()
        own = kernel is not None  # w is a new tensor, not the parameter

        def scale(w: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
            nonlocal own
            if own and in_place:
                return w.mul_(a)
            own = True
            return w * a

        if kernel is not None:
            w = _aggregate_bank(kernel, weight.reshape(n, -1)).view(
                batch, c_out, c_in_g, kh, kw)
        else:
            w = weight.expand(batch, -1, -1, -1, -1)
        if spatial is not None:
            w = scale(w, spatial.view(batch, 1, 1, kh, kw))
        if fold:
            if filt is not None:
                w = scale(w, filt.view(batch, c_out, 1, 1, 1))
            ch = channel.view(batch, self.groups, 1, c_in_g, 1)
            w = scale(
                w.view(batch, self.groups, c_out // self.groups, c_in_g,
                       kh * kw), ch)
            w = w.view(batch, c_out, c_in_g, kh, kw)
        return w

    def _fold_attention(self, x: torch.Tensor) -> bool:
        """Fold channel/filter attention into the kernels when the kernels
        are smaller than the activations they would otherwise scale."""
        kernel_numel = self.weight.numel() // self.kernel_num
        act_numel = x.size(1) * x.size(2) * x.size(3)
        return kernel_numel <= act_numel

    def _batch_chunk(self, x: torch.Tensor) -> int:
        """Samples per chunk of the ``grouped`` path (see ``kernel_bytes``)."""
        limit = self.kernel_bytes.get(x.device.type)
        if limit is None:
            return x.size(0)
        per_sample = self.weight.numel() // self.kernel_num * 4  # float32
        return max(1, int(limit) // per_sample)

    def _forward_dynamic(self, impl, x, channel, filt, spatial, kernel):
        fold = self._fold_attention(x)
        if not fold:
            x = x * channel.to(x.dtype)[:, :, None, None]
        chunk = self._batch_chunk(x) if impl == 'grouped' else x.size(0)
        if x.size(0) <= chunk:
            out = self._per_sample_conv(impl, x, channel, filt, spatial,
                                        kernel, fold)
        else:
            # Bounded per-sample kernels: a large batch of large kernels
            # (e.g. 32 x 256x256x3x3 = 75 MB) is built and convolved a few
            # samples at a time, which stays in cache and reuses memory.
            out = torch.cat([
                self._per_sample_conv(
                    impl, x[i:i + chunk],
                    *(None if a is None else a[i:i + chunk]
                      for a in (channel, filt, spatial, kernel)), fold)
                for i in range(0, x.size(0), chunk)
            ])
        if not fold and filt is not None:
            f = filt.to(out.dtype)[:, :, None, None]
            out = out * f if torch.is_grad_enabled() else out.mul_(f)
        return out

    def _per_sample_conv(self, impl, x, channel, filt, spatial, kernel,
                         fold: bool) -> torch.Tensor:
        """Build the samples' kernels and convolve each sample with its own
        (channel attention already applied to ``x`` unless ``fold``)."""
        w = self._sample_kernels(channel, filt, spatial, kernel, fold)
        w = w.to(self._compute_dtype(x))
        if x.size(0) == 1 and impl in ('single', 'grouped', 'loop'):
            return self._conv(x, w[0])
        if impl == 'matmul' and self._matmul_ok():
            return self._matmul_1x1(x, w)
        if impl == 'grouped':
            return self._grouped(x, w)
        if impl == 'unfold':
            return self._unfold_matmul(x, w)
        # 'loop', and 'single'/'matmul' where they do not apply
        return torch.cat(
            [self._conv(x[i:i + 1], w[i]) for i in range(x.size(0))])

    def _compute_dtype(self, x: torch.Tensor) -> torch.dtype:
        if autocast_enabled(x.device.type):
            return autocast_dtype(x.device.type)
        return x.dtype

    def _matmul_ok(self) -> bool:
        return (self.kernel_size == (1, 1) and self.groups == 1
                and self.padding == (0, 0))

    def _matmul_1x1(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """A 1x1 conv as a matmul; ``w`` is per sample (B, C_out, C_in, 1,
        1) or shared (C_out, C_in, 1, 1)."""
        if self.stride != (1, 1):
            x = x[:, :, ::self.stride[0], ::self.stride[1]]
        batch, c_in, h, wd = x.shape
        w = w.reshape(*w.shape[:-3], c_in)
        out = torch.matmul(w, x.to(w.dtype).reshape(batch, c_in, h * wd))
        return out.view(batch, self.out_channels, h, wd)

    def _unfold_matmul(self, x: torch.Tensor,
                       w: torch.Tensor) -> torch.Tensor:
        """im2col + batched matmul: no Python loop over the batch and no
        batch size baked into the graph (exportable with a dynamic batch)."""
        batch, _, h, wd = x.shape
        kh, kw = self.kernel_size
        h_out = (h + 2 * self.padding[0] - self.dilation[0] *
                 (kh - 1) - 1) // self.stride[0] + 1
        w_out = (wd + 2 * self.padding[1] - self.dilation[1] *
                 (kw - 1) - 1) // self.stride[1] + 1
        g = self.groups
        cols = F.unfold(x.to(w.dtype), self.kernel_size, self.dilation,
                        self.padding, self.stride)
        cols = cols.view(batch, g, -1, h_out * w_out)
        out = torch.matmul(w.view(batch, g, self.out_channels // g, -1), cols)
        return out.view(batch, self.out_channels, h_out, w_out)

    def _grouped(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        batch, _, h, wd = x.shape
        out = F.conv2d(
            x.reshape(1, -1, h, wd),
            w.reshape(-1, *w.shape[2:]),
            None,
            self.stride,
            self.padding,
            self.dilation,
            groups=self.groups * batch)
        return out.view(batch, self.out_channels, *out.shape[-2:])

    def _conv(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, w, None, self.stride, self.padding, self.dilation,
                        self.groups)

    # ------------------------------------------------------------ state dict
    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Inflate static (4-D) or single-kernel checkpoints into the bank.

        A one-kernel ODConv weight becomes every one of the ``n`` kernels;
        its attention loads with it and the layer computes what the
        one-kernel layer did (the kernel softmax sums to one). A static
        ``nn.Conv2d`` weight (C_out, C_in/g, k, k), e.g. from an ImageNet
        ResNet, comes without attention: it goes into every kernel scaled by
        ``2 ** h`` and the ``h`` sigmoid heads start at zero (each sigmoid
        attention exactly 0.5), so the layer computes exactly the static
        conv when loaded and a pretrained network stays pretrained (also
        under ``frozen_stages`` and ``norm_eval``). The kernel head keeps
        its random initialisation: its softmax changes nothing while the
        kernels are equal, and it makes their gradients differ, so they
        separate in training. Any other kernel count raises, naming both
        numbers.
        """
        key = prefix + 'weight'
        w = state_dict.get(key)
        if isinstance(w, torch.Tensor):
            ours = self.weight.shape
            if w.dim() == 4 and tuple(w.shape) == tuple(ours[1:]):
                bank = w.unsqueeze(0).expand(ours).clone()
                if not any(k.startswith(prefix + 'attention.')
                           for k in state_dict):
                    bank = bank * self._neutralise_sigmoid_heads()
                state_dict[key] = bank
                _log_inflation(key, 'a static conv weight')
            elif w.dim() == 5 and tuple(w.shape[1:]) == tuple(ours[1:]) \
                    and w.size(0) != ours[0]:
                if w.size(0) != 1:
                    raise ValueError(
                        f'{key}: the checkpoint has kernel_num={w.size(0)} '
                        f'but this ODConv2d has kernel_num={ours[0]}; build '
                        f'the model with kernel_num={w.size(0)}, or load a '
                        'static or 1-kernel checkpoint, which is inflated.')
                state_dict[key] = w.expand(ours).clone()
                _log_inflation(key, 'a 1-kernel ODConv weight')
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def _neutralise_sigmoid_heads(self) -> float:
        """Zero the sigmoid heads (every sigmoid attention becomes 0.5) and
        return the factor, ``2 ** heads``, that makes up for them."""
        heads = self.attention._sigmoid_heads
        with torch.no_grad():
            for name in heads:
                fc = self.attention._modules[name]
                fc.weight.zero_()
                fc.bias.zero_()
        return float(2**len(heads))

    def extra_repr(self) -> str:
        s = (f'{self.in_channels}, {self.out_channels}, '
             f'kernel_size={self.kernel_size}, stride={self.stride}, '
             f'padding={self.padding}, dilation={self.dilation}, '
             f'groups={self.groups}, kernel_num={self.kernel_num}')
        if self.bias is not None:
            s += ', bias=True'
        if self.impl != 'auto':
            s += f', impl={self.impl!r}'
        return s


_inflation_logged = False


def _log_inflation(key: str, what: str) -> None:
    """Log the first inflation at INFO (once per process), the rest DEBUG."""
    global _inflation_logged
    level = logging.DEBUG if _inflation_logged else logging.INFO
    print_log(
        f'ODConv: inflated {what} into every kernel of the bank at {key}'
        + ('' if _inflation_logged else
           ' (further inflations are logged at DEBUG level)'),
        logger='current',
        level=level)
    _inflation_logged = True


def _check_args(in_channels, out_channels, kernel_size, groups, kernel_num,
                reduction, min_channel, temperature, impl) -> None:
    """Raise a clear error for invalid constructor arguments."""
    for name, v in (('in_channels', in_channels),
                    ('out_channels', out_channels), ('groups', groups),
                    ('kernel_num', kernel_num), ('min_channel', min_channel)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f'{name} must be an int >= 1, got {v!r}')
    ks = _pair(kernel_size)
    if not all(isinstance(k, int) and k >= 1 for k in ks):
        raise ValueError(f'kernel_size must be positive ints, got '
                         f'{kernel_size!r}')
    if in_channels % groups:
        raise ValueError(f'in_channels ({in_channels}) must be divisible by '
                         f'groups ({groups})')
    if out_channels % groups:
        raise ValueError(f'out_channels ({out_channels}) must be divisible '
                         f'by groups ({groups})')
    if not (isinstance(reduction, (int, float)) and reduction > 0
            and math.isfinite(reduction)):
        raise ValueError(f'reduction must be a number > 0 (a fraction of '
                         f'in_channels, e.g. 0.0625), got {reduction!r}')
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature!r}')
    if impl not in IMPLS:
        raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')
