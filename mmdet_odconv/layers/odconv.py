"""ODConv2d: Omni-Dimensional Dynamic Convolution, a drop-in ``nn.Conv2d``.

Paper: Li, Zhou and Yao, "Omni-Dimensional Dynamic Convolution", ICLR 2022,
https://arxiv.org/abs/2209.07947.

The layer keeps the official implementation's parameter names and shapes
(its checkpoints load with ``strict=True``) and computes the same function
by one of the formulations in ``FORMULATIONS``. Needs torch only.
"""
import logging
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch.nn.modules.utils import _pair

from ._args import (ATTENTION_NAMES, IntOrPair, check_args, check_attentions,
                    check_temperature, resolve_padding)
from ._log import log
from .attention import Attentions, ODConvAttention
from .formulations import (FORMULATIONS, IMPLS, ConvGeometry,
                           applicable_impls, batch_chunk, choose_impl,
                           compute_dtype, resolve_impl, sample_kernels,
                           scale)


def _geometry_field(name: str, settable: bool = False) -> property:
    """A conv attribute read from (and, for stride, padding and dilation,
    written to) the layer's ``ConvGeometry``. ``forward`` reads the
    geometry itself: torch 2.1's compiler cannot guard these properties."""

    def get(self: 'ODConv2d'):
        return getattr(self.geometry, name)

    def set_(self: 'ODConv2d', value) -> None:
        self._change_geometry(name, value)

    return property(get, set_ if settable else None,
                    doc=f'``{name}``, as in ``nn.Conv2d``.')


class ODConv2d(nn.Module):
    """Omni-Dimensional Dynamic Convolution, a drop-in for ``nn.Conv2d``.

    Each sample gets its own kernel
    ``sum_i a_kernel[i] * a_spatial * a_channel * a_filter * W_i`` from the
    attentions of ``ODConvAttention``. Registered in MMEngine as ``ODConv``:
    ``build_conv_layer(dict(type='ODConv', kernel_num=4), ...)`` and any
    ``conv_cfg`` build it.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int or tuple): Square kernel size.
        stride, dilation (int or tuple): As in ``nn.Conv2d``.
        padding (int, tuple or str): As in ``nn.Conv2d``, including
            ``'valid'`` and ``'same'`` (stride 1, symmetric padding only).
        groups (int): As in ``nn.Conv2d``. Defaults to 1.
        bias (bool): Add a plain learnable bias after the filter attention
            (not part of the bank; the official code has none).
            Defaults to False.
        kernel_num (int): Number of kernels ``n`` in the bank. Defaults to 4.
        reduction (float): Squeeze width ratio. Defaults to 0.0625.
        min_channel (int): Minimum squeeze width. Defaults to 16.
        temperature (float): Initial attention temperature. Defaults to 1.
        attention_norm_cfg (dict, optional): Norm of the squeeze. Defaults to
            ``dict(type='BN')`` (official, checkpoint-compatible).
        impl (str): ``'auto'`` or a name of ``FORMULATIONS``; one that cannot
            compute this layer's geometry is refused.
        attentions (Sequence[str]): The attentions to compute, any subset
            of ``('channel', 'filter', 'spatial', 'kernel')``; an absent one
            is 1 and builds no parameters. ``kernel_num > 1`` needs
            ``'kernel'``; the empty subset with one kernel is a static conv.
            Defaults to all four (ODConv).
        zero_init_attention (bool): Zero the attention heads at
            initialisation: every sample then starts with the same kernel
            (the bank's mean, times 0.5 per sigmoid attention), as a
            static conv, and the attentions grow from there. For training
            from scratch with small batches (docs/accuracy.md). Defaults to
            False (the official init).
    """

    # Recorded in every state dict's metadata, so that a future change of
    # the parameter layout can migrate old checkpoints.
    _version = 1
    # Per device type, an upper bound in bytes on the per-sample kernels the
    # ``grouped`` formulation builds at once; larger batches go in chunks of
    # samples (value chosen in benchmarks/README.md). Devices not listed
    # build the whole batch at once. Each layer copies it when built.
    kernel_bytes = {'cpu': 24 << 20}
    # Attributes MMCV's ConvModule and other nn.Conv2d users read.
    transposed = False
    output_padding = (0, 0)
    padding_mode = 'zeros'
    in_channels = _geometry_field('in_channels')
    out_channels = _geometry_field('out_channels')
    kernel_size = _geometry_field('kernel_size')
    stride = _geometry_field('stride', settable=True)
    padding = _geometry_field('padding', settable=True)
    dilation = _geometry_field('dilation', settable=True)
    groups = _geometry_field('groups')
    kernel_num = _geometry_field('kernel_num')

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: IntOrPair,
                 stride: IntOrPair = 1,
                 padding: Union[IntOrPair, str] = 0,
                 dilation: IntOrPair = 1,
                 groups: int = 1,
                 bias: bool = False,
                 kernel_num: int = 4,
                 reduction: float = 0.0625,
                 min_channel: int = 16,
                 temperature: float = 1.0,
                 attention_norm_cfg: Optional[dict] = dict(type='BN'),
                 impl: str = 'auto',
                 attentions: Sequence[str] = ATTENTION_NAMES,
                 zero_init_attention: bool = False) -> None:
        super().__init__()
        check_args(in_channels, out_channels, kernel_size, stride, dilation,
                   groups, kernel_num, reduction, min_channel)
        kernel_size, stride = _pair(kernel_size), _pair(stride)
        dilation = _pair(dilation)
        padding = resolve_padding(padding, kernel_size, stride, dilation)
        self.attentions = check_attentions(attentions, kernel_num)
        # an instance copy: torch.compile (dynamo of torch 2.1) cannot read
        # a class-level dict through the instance
        self.kernel_bytes = dict(type(self).kernel_bytes)
        self.attention = ODConvAttention(
            in_channels,
            out_channels,
            kernel_size,
            groups=groups,
            reduction=reduction,
            kernel_num=kernel_num,
            min_channel=min_channel,
            norm_cfg=attention_norm_cfg,
            attentions=self.attentions,
            zero_init=zero_init_attention)
        heads = self.attention.heads
        self.geometry = ConvGeometry(
            in_channels, out_channels, kernel_size, stride, padding,
            dilation, groups, kernel_num,
            static_kernel='spatial' not in heads and 'kernel' not in heads)
        self.impl = impl
        self.set_temperature(temperature)
        self.weight = nn.Parameter(
            torch.empty(kernel_num, out_channels, in_channels // groups,
                        *kernel_size))
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_channels))
        else:
            self.register_parameter('bias', None)
        self.init_weights()

    def init_weights(self) -> None:
        """Kaiming-normal (fan_out, relu) per kernel, as the official code.

        Defined so that MMCV's ConvModule and MMEngine's BaseModule call it
        instead of their own initialiser, whose fan would be wrong for a
        5-D bank.
        """
        for i in range(self.kernel_num):
            nn.init.kaiming_normal_(
                self.weight.data[i], mode='fan_out', nonlinearity='relu')
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self.attention.init_weights()

    # ------------------------------------------------------------ properties
    @property
    def static_kernel(self) -> bool:
        """Whether the kernel is the same for every sample (no spatial and
        no kernel attention, e.g. one 1x1 kernel)."""
        return self.geometry.static_kernel

    @property
    def impl(self) -> str:
        return self._impl

    @impl.setter
    def impl(self, impl: str) -> None:
        if impl not in IMPLS:
            raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')
        if impl != 'auto' and impl not in self.applicable_impls():
            raise ValueError(
                f'impl={impl!r} cannot compute this layer '
                f'(kernel_num={self.kernel_num}, kernel_size='
                f'{self.kernel_size}, groups={self.groups}, padding='
                f'{self.padding}, attentions={self.attention.heads}): it '
                f'needs {FORMULATIONS[impl].needs}; use one of '
                f'{self.applicable_impls()} or "auto"')
        self._impl = impl

    def applicable_impls(self) -> Tuple[str, ...]:
        """The formulations that can compute this layer."""
        return applicable_impls(self.geometry)

    def choose_impl(self, batch: int) -> str:
        """The formulation ``'auto'`` uses for ``batch`` samples (see
        ``formulations.choose_impl``)."""
        return choose_impl(self.geometry, batch)

    def _change_geometry(self, name: str, value) -> None:
        """Set ``stride``, ``padding`` or ``dilation`` after construction,
        checked as in the constructor."""
        g = self.geometry
        if name == 'padding':
            value = resolve_padding(value, g.kernel_size, g.stride,
                                    g.dilation)
        else:
            check_args(g.in_channels, g.out_channels, g.kernel_size,
                       value if name == 'stride' else g.stride,
                       value if name == 'dilation' else g.dilation,
                       g.groups, g.kernel_num, 1.0, 1)
            value = _pair(value)
        self.geometry = g._replace(**{name: value})
        try:
            self.impl = self.impl  # a forced formulation must still apply
        except ValueError:
            self.geometry = g
            raise

    @property
    def temperature(self) -> float:
        return self.attention.temperature

    def set_temperature(self, temperature: float) -> None:
        """Set the attention temperature (logits are divided by it)."""
        self.attention.temperature = check_temperature(temperature)

    # --------------------------------------------------------------- forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ODConv to ``x`` (B, C_in, H, W); returns (B, C_out, H', W').

        Attention, then one formulation. The channel and filter attentions
        are built into the per-sample kernels when those are smaller than
        the activations (``folds_attention``), else they scale the input
        and the output.
        """
        self._check_input(x)
        if x.size(0) == 0:
            out = self._empty_batch(x)
        else:
            impl = resolve_impl(self.impl, self.geometry, x.size(0))
            compute = FORMULATIONS[impl].compute
            att = self.attention(x)
            limit = self.kernel_bytes.get(x.device.type)
            if impl != 'static' and self.folds_attention(x):
                out = compute(x, self.weight, att, self.geometry, limit)
            else:
                if att.channel is not None:
                    x = x * att.channel.to(x.dtype)[:, :, None, None]
                out = compute(x, self.weight,
                              att.without_channel_and_filter(),
                              self.geometry, limit)
                if att.filter is not None:
                    out = scale(out, att.filter.to(out.dtype)[:, :, None,
                                                              None])
        if self.bias is not None:
            out = out + self.bias.to(out.dtype).view(1, -1, 1, 1)
        return out

    def folds_attention(self, x: torch.Tensor) -> bool:
        """Whether channel and filter attentions go into the kernels (when
        a kernel is smaller than the activations it would scale)."""
        kernel_numel = self.weight.numel() // self.geometry.kernel_num
        return kernel_numel <= x.size(1) * x.size(2) * x.size(3)

    def batch_chunk(self, x: torch.Tensor) -> int:
        """Samples per chunk of the ``grouped`` formulation."""
        return batch_chunk(x.size(0), self.weight,
                           self.kernel_bytes.get(x.device.type))

    def sample_kernels(self, channel: Optional[torch.Tensor],
                       filt: Optional[torch.Tensor],
                       spatial: Optional[torch.Tensor],
                       kernel: Optional[torch.Tensor],
                       fold: bool) -> torch.Tensor:
        """Per-sample kernels (B, C_out, C_in/g, kh, kw), float32, from
        the attentions (with ``fold``, channel and filter ones included).
        Without any attention, the one kernel every sample shares
        (B = 1)."""
        att = Attentions(channel, filt, spatial, kernel)
        if not fold:
            att = att.without_channel_and_filter()
        batch = next((a.size(0) for a in att if a is not None), 1)
        return sample_kernels(self.weight, att, self.geometry, batch)

    def _empty_batch(self, x: torch.Tensor) -> torch.Tensor:
        """An empty output in which every parameter still gets a (zero)
        gradient, as with ``nn.Conv2d``: DDP then finds them all."""
        out = self.geometry.conv(x, self.weight[0].to(compute_dtype(x)))
        if torch.is_grad_enabled():
            params = [p for p in self.attention.parameters()
                      if p.requires_grad]
            if params:
                out = out + 0 * sum(p.flatten()[0] for p in params)
        return out

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4:
            raise ValueError('ODConv2d expects a 4-D input (B, C, H, W), '
                             f'got a {x.dim()}-D tensor of shape '
                             f'{tuple(x.shape)}')
        if x.size(1) != self.geometry.in_channels:
            raise ValueError(f'ODConv2d built with in_channels='
                             f'{self.in_channels} got an input with '
                             f'{x.size(1)} channels (shape {tuple(x.shape)})')

    # ------------------------------------------------ state dict, conversion
    def _apply(self, fn, recurse=True):
        """Apply ``fn`` to the 5-D bank as to a 4-D stack of kernels, so
        that ``model.to(memory_format=torch.channels_last)`` works (the bank
        stays contiguous) while every 4-D tensor converts."""

        def fn_keeping_bank(t: torch.Tensor) -> torch.Tensor:
            if t.dim() != 5:
                return fn(t)
            return fn(t.flatten(0, 1)).contiguous().view(t.shape)

        return super()._apply(fn_keeping_bank, recurse)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Inflate static (4-D) or single-kernel checkpoints into the bank.

        A one-kernel ODConv weight becomes every kernel of the bank (the
        kernel softmax sums to one: same function). A static ``nn.Conv2d``
        weight without attention goes into every kernel scaled by
        ``2 ** h`` with the ``h`` sigmoid heads zeroed (each attention 0.5),
        so the layer computes exactly the static conv and a pretrained
        network stays pretrained; the kernel head stays random, so the
        kernels separate in training. Other kernel counts raise.
        """
        key = prefix + 'weight'
        w = state_dict.get(key)
        ours = tuple(self.weight.shape)
        if isinstance(w, torch.Tensor) and w.dim() == 4 \
                and tuple(w.shape) == ours[1:]:
            bank = w.unsqueeze(0).expand(ours).clone()
            if not any(k.startswith(prefix + 'attention.')
                       for k in state_dict):
                bank = bank * 2.0**self.attention.neutralise_sigmoid_heads()
            state_dict[key] = bank
            _log_inflation(key, 'a static conv weight')
        elif isinstance(w, torch.Tensor) and w.dim() == 5 \
                and tuple(w.shape[1:]) == ours[1:] and w.size(0) != ours[0]:
            if w.size(0) != 1:
                raise ValueError(
                    f'{key}: the checkpoint has kernel_num={w.size(0)} but '
                    f'this ODConv2d has kernel_num={ours[0]}; build the '
                    f'model with kernel_num={w.size(0)}, or load a static '
                    'or 1-kernel checkpoint, which is inflated.')
            state_dict[key] = w.expand(ours).clone()
            _log_inflation(key, 'a 1-kernel ODConv weight')
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        s = (f'{self.in_channels}, {self.out_channels}, '
             f'kernel_size={self.kernel_size}, stride={self.stride}, '
             f'padding={self.padding}, dilation={self.dilation}, '
             f'groups={self.groups}, kernel_num={self.kernel_num}')
        if self.bias is not None:
            s += ', bias=True'
        if self.attentions != ATTENTION_NAMES:
            s += f', attentions={self.attentions}'
        if self.impl != 'auto':
            s += f', impl={self.impl!r}'
        return s


_inflation_logged = False


def _log_inflation(key: str, what: str) -> None:
    """Log the first inflation at INFO (once per process), the rest DEBUG."""
    global _inflation_logged
    level = logging.DEBUG if _inflation_logged else logging.INFO
    log(f'ODConv: inflated {what} into every kernel of the bank at {key}' +
        ('' if _inflation_logged else
         ' (further inflations are logged at DEBUG level)'), level)
    _inflation_logged = True
