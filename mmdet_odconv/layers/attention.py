"""The four attentions of ODConv, computed from one squeezed descriptor.

Needs torch only; MMCV is used just to build norms other than the four
``torch.nn`` ones named in ``TORCH_NORMS``.
"""
from typing import Iterable, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from ._args import ATTENTION_NAMES, check_attentions
from ._compat import autocast_enabled


class Attentions(NamedTuple):
    """One layer's attentions for a batch, float32 (float64 for float64
    inputs); an attention that is switched off or carries no information
    is None (it would be all ones)."""
    channel: Optional[torch.Tensor]  # (B, C_in), sigmoid
    filter: Optional[torch.Tensor]  # (B, C_out), sigmoid
    spatial: Optional[torch.Tensor]  # (B, kh * kw), sigmoid
    kernel: Optional[torch.Tensor]  # (B, n), softmax over the bank

    def without_channel_and_filter(self) -> 'Attentions':
        """The spatial and kernel attentions alone (built here, not with
        ``_replace``, which torch 2.1's compiler cannot trace)."""
        return Attentions(None, None, self.spatial, self.kernel)


# MMCV's names for the norms the squeeze can use without MMCV installed.
TORCH_NORMS = {
    'BN': nn.BatchNorm2d,
    'SyncBN': nn.SyncBatchNorm,
    'GN': nn.GroupNorm,
    'LN': nn.LayerNorm
}


class ODConvAttention(nn.Module):
    """Channel, filter, spatial and kernel attentions of one ODConv layer.

    Global average pool -> 1x1 FC -> norm -> ReLU, then one head per
    dimension: input channels, output filters, spatial taps (sigmoids) and
    the kernel bank (softmax), all logits divided by ``temperature``. Only
    the heads named in ``attentions`` are built, and of those only the ones
    that carry information (no filter head for a depthwise conv, no spatial
    head for a 1x1 conv, no kernel head for one kernel); without any head
    there is no squeeze either. So DDP never sees unused parameters.

    Args:
        in_channels (int): Input channels of the convolution.
        out_channels (int): Output channels of the convolution.
        kernel_size (tuple[int, int]): Kernel size of the convolution.
        groups (int): Groups of the convolution.
        reduction (float): Squeeze width as a fraction of ``in_channels``.
        kernel_num (int): Number of kernels in the bank.
        min_channel (int): Lower bound of the squeeze width.
        norm_cfg (dict, optional): Norm after the squeeze FC, an MMCV norm
            cfg; ``None`` for none. Defaults to BN, as the official code.
        attentions (Sequence[str]): Which of ``'channel'``, ``'filter'``,
            ``'spatial'`` and ``'kernel'`` to compute. Defaults to all.
        zero_init (bool): Initialise the heads to zero, so that every
            attention starts the same for all inputs (sigmoids 0.5, a
            uniform kernel mix). Defaults to False (the official init).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: Tuple[int, int],
                 groups: int = 1,
                 reduction: float = 0.0625,
                 kernel_num: int = 4,
                 min_channel: int = 16,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 attentions: Sequence[str] = ATTENTION_NAMES,
                 zero_init: bool = False) -> None:
        super().__init__()
        if not isinstance(zero_init, bool):
            raise TypeError('zero_init_attention must be True or False, got '
                            f'{zero_init!r}')
        self.zero_init = zero_init
        self.kernel_size = kernel_size
        self.kernel_num = kernel_num
        self.temperature = 1.0
        taps = kernel_size[0] * kernel_size[1]
        sizes = dict(channel=in_channels, filter=out_channels, spatial=taps,
                     kernel=kernel_num)
        informative = dict(
            channel=True,
            filter=not (in_channels == groups == out_channels),
            spatial=taps > 1,
            kernel=kernel_num > 1)
        # The attentions computed, in the official order of the heads.
        self.heads = tuple(a for a in check_attentions(attentions, kernel_num)
                           if informative[a])
        if self.heads:
            width = max(int(in_channels * reduction), min_channel)
            self.fc = nn.Conv2d(in_channels, width, 1, bias=False)
            self.bn = build_squeeze_norm(norm_cfg, width)
            self.relu = nn.ReLU(inplace=True)
            for a in self.heads:
                self.add_module(f'{a}_fc',
                                nn.Conv2d(width, sizes[a], 1, bias=True))
        # Fixed at construction; forward reads these instead of probing
        # submodules (attribute lookups on nn.Module are slow).
        self.sigmoid_heads = tuple(f'{a}_fc' for a in self.heads
                                   if a != 'kernel')
        self._sigmoid_sizes = [sizes[a] for a in self.heads if a != 'kernel']
        self._has_kernel_head = 'kernel' in self.heads
        self.init_weights()

    def init_weights(self) -> None:
        """Kaiming-normal (fan_out, relu) FCs, zero biases, unit norm;
        with ``zero_init``, zero heads."""
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
        if self.zero_init:
            self._zero_heads(f'{a}_fc' for a in self.heads)

    def neutralise_sigmoid_heads(self) -> int:
        """Zero the sigmoid heads so that each attention is exactly 0.5;
        return how many heads there are."""
        self._zero_heads(self.sigmoid_heads)
        return len(self.sigmoid_heads)

    @torch.no_grad()
    def _zero_heads(self, names: Iterable[str]) -> None:
        for name in names:
            self._modules[name].weight.zero_()
            self._modules[name].bias.zero_()

    def forward(self, x: torch.Tensor) -> Attentions:
        """Return the channel (B, C_in), filter (B, C_out), spatial
        (B, kh*kw) and kernel (B, n) attentions, in float32 (float64 for a
        float64 input) even under autocast; absent heads give None."""
        if not self.heads:
            return Attentions(None, None, None, None)
        if autocast_enabled(x.device.type):
            with torch.autocast(x.device.type, enabled=False):
                return self._attend(x)
        return self._attend(x)

    def _attend(self, x: torch.Tensor) -> Attentions:
        mods = self._modules
        dtype = attention_dtype(x.dtype)
        # The mean accumulates in float32 without a float32 copy of x.
        s = x.mean((2, 3), dtype=dtype)
        s = _linear(s, mods['fc'], dtype)  # bias only after BN fusion
        s = self.relu(self._norm(s))
        t = self.temperature
        sig = {}
        if self.sigmoid_heads:
            # The sigmoid heads share one sigmoid on their concatenated
            # logits: fewer small ops, which dominate on small maps.
            logits = torch.cat(
                [_linear(s, mods[k], dtype) for k in self.sigmoid_heads], 1)
            logits = torch.sigmoid(logits if t == 1.0 else logits / t)
            sig = dict(zip(self.sigmoid_heads,
                           logits.split(self._sigmoid_sizes, 1)))
        kernel = None
        if self._has_kernel_head:
            k = _linear(s, mods['kernel_fc'], dtype)
            kernel = torch.softmax(k if t == 1.0 else k / t, dim=1)
        return Attentions(
            channel=sig.get('channel_fc'),
            filter=sig.get('filter_fc'),
            spatial=sig.get('spatial_fc'),
            kernel=kernel)

    def _norm(self, s: torch.Tensor) -> torch.Tensor:
        """Normalise the squeezed (B, width) descriptor.

        A BN in eval mode, or given one sample in training, normalises with
        its running statistics and leaves them unchanged (so batch size 1
        trains instead of failing), applied functionally to the 2-D
        descriptor. A SyncBN spanning several processes always goes through
        its module, whose statistics cover the global batch.
        """
        bn = self.bn
        if (isinstance(bn, _BatchNorm) and bn.track_running_stats
                and (not bn.training or
                     (s.size(0) == 1 and not _synced_across_processes(bn)))):
            return F.batch_norm(s, as_dtype(bn.running_mean, s.dtype),
                                as_dtype(bn.running_var, s.dtype),
                                as_dtype(bn.weight, s.dtype),
                                as_dtype(bn.bias, s.dtype), False, 0.0,
                                bn.eps)
        weight = getattr(bn, 'weight', None)
        if isinstance(weight, torch.Tensor) and weight.dtype != s.dtype:
            # a half / bfloat16 model: the norm runs in its own dtype
            return self._norm_module(s.to(weight.dtype)).to(s.dtype)
        return self._norm_module(s)

    def _norm_module(self, s: torch.Tensor) -> torch.Tensor:
        if isinstance(self.bn, (nn.LayerNorm, nn.Identity, nn.BatchNorm1d)):
            return self.bn(s)
        return self.bn(s[:, :, None, None]).flatten(1)


def attention_dtype(dtype: torch.dtype) -> torch.dtype:
    """Attentions are computed in float32 (float64 for float64 models)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def as_dtype(t: Optional[torch.Tensor],
             dtype: torch.dtype) -> Optional[torch.Tensor]:
    """``t`` in ``dtype`` (no copy when it already is; None stays None)."""
    return t if t is None or t.dtype == dtype else t.to(dtype)


def _linear(s: torch.Tensor, fc: nn.Conv2d,
            dtype: torch.dtype) -> torch.Tensor:
    """A 1x1 conv head applied to the (B, C) descriptor as a linear map."""
    return F.linear(s, as_dtype(fc.weight.flatten(1), dtype),
                    as_dtype(fc.bias, dtype))


def _synced_across_processes(bn: nn.Module) -> bool:
    """Whether ``bn`` is a SyncBN whose statistics span several processes."""
    return (isinstance(bn, nn.SyncBatchNorm)
            and torch.distributed.is_available()
            and torch.distributed.is_initialized()
            and torch.distributed.get_world_size() > 1)


def build_squeeze_norm(norm_cfg: Optional[dict],
                       channels: int) -> nn.Module:
    """Build the squeeze norm from an MMCV-style cfg (None: identity).

    ``TORCH_NORMS`` are built with torch alone; other types go through
    MMCV's ``build_norm_layer``. The norm sees one value per channel and
    sample, so norms over spatial positions are refused.
    """
    if norm_cfg is None:
        return nn.Identity()
    if not isinstance(norm_cfg, dict) or 'type' not in norm_cfg:
        raise TypeError('attention_norm_cfg must be None or a dict with a '
                        f'"type" key, got {norm_cfg!r}')
    cfg = dict(norm_cfg)
    norm_type = cfg.pop('type')
    requires_grad = cfg.pop('requires_grad', True)
    if norm_type in TORCH_NORMS:
        if norm_type == 'GN':
            norm = nn.GroupNorm(num_channels=channels, **cfg)
        else:
            norm = TORCH_NORMS[norm_type](channels, **cfg)
        for p in norm.parameters():
            p.requires_grad = requires_grad
    else:
        try:
            from mmcv.cnn import build_norm_layer
        except ImportError as e:
            raise ImportError(
                f'attention_norm_cfg={norm_cfg!r} needs MMCV to build; '
                f'install mmcv or use one of {sorted(TORCH_NORMS)} or '
                'None') from e
        norm = build_norm_layer(norm_cfg, channels)[1]
    if isinstance(norm, (_InstanceNorm, nn.BatchNorm3d)):
        raise ValueError(
            f'attention_norm_cfg={norm_cfg!r} builds a '
            f'{type(norm).__name__}, which cannot normalise the squeezed '
            '(B, C) descriptor (an instance norm would normalise each '
            'channel over a single value); use BN (the official choice), '
            'SyncBN, GN, LN or None.')
    return norm
