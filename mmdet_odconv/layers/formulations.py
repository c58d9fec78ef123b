"""The ways of computing ODConv, in one table.

Every formulation computes the same function; they differ in speed and in
what a traced graph bakes in. Each takes the layer, its input (scaled by the
channel attention unless ``fold``), the attentions and ``fold``, and returns
the output before the filter attention scales it (when not folded).
``ODConv2d.choose_impl`` picks one per call for ``impl='auto'``;
benchmarks/README.md says why.
"""
from typing import TYPE_CHECKING, Callable, Dict, NamedTuple

import torch
import torch.nn.functional as F

from ._compat import autocast_dtype, autocast_enabled
from .attention import Attentions

if TYPE_CHECKING:
    from .odconv import ODConv2d

Compute = Callable[['ODConv2d', torch.Tensor, Attentions, bool],
                   torch.Tensor]


class Formulation(NamedTuple):
    """What a formulation needs (in words, and as a test on the layer) and
    the function computing it."""
    needs: str
    applies: Callable[['ODConv2d'], bool]
    compute: Compute


def conv(layer: 'ODConv2d', x: torch.Tensor,
         w: torch.Tensor) -> torch.Tensor:
    """An ordinary conv with the layer's geometry and kernel ``w``."""
    return F.conv2d(x, w, None, layer.stride, layer.padding, layer.dilation,
                    layer.groups)


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype the convolution runs in (autocast's, if enabled)."""
    if autocast_enabled(x.device.type):
        return autocast_dtype(x.device.type)
    return x.dtype


def is_plain_1x1(layer: 'ODConv2d') -> bool:
    return (layer.kernel_size == (1, 1) and layer.groups == 1
            and layer.padding == (0, 0))


def _kernels(layer: 'ODConv2d', x: torch.Tensor, att: Attentions,
             fold: bool) -> torch.Tensor:
    return layer.sample_kernels(*att, fold).to(compute_dtype(x))


def static(layer: 'ODConv2d', x: torch.Tensor, att: Attentions,
           fold: bool) -> torch.Tensor:
    """The kernel is shared: one ordinary conv for the whole batch."""
    return conv(layer, x, layer.weight[0].to(compute_dtype(x)))


def loop(layer: 'ODConv2d', x: torch.Tensor, att: Attentions,
         fold: bool) -> torch.Tensor:
    """One ordinary conv per sample."""
    w = _kernels(layer, x, att, fold)
    if x.size(0) == 1:
        return conv(layer, x, w[0])
    return torch.cat(
        [conv(layer, x[i:i + 1], w[i]) for i in range(x.size(0))])


def grouped(layer: 'ODConv2d', x: torch.Tensor, att: Attentions,
            fold: bool) -> torch.Tensor:
    """The batch folded into the groups of one conv (the official way), in
    chunks of at most ``layer.kernel_bytes`` of kernels."""
    chunk = layer.batch_chunk(x)
    outs = []
    for i in range(0, x.size(0), chunk):
        part = tuple(None if a is None else a[i:i + chunk] for a in att)
        xs = x[i:i + chunk]
        w = _kernels(layer, xs, part, fold)
        if xs.size(0) == 1:
            outs.append(conv(layer, xs, w[0]))
            continue
        batch, _, h, wd = xs.shape
        out = F.conv2d(
            xs.reshape(1, -1, h, wd), w.reshape(-1, *w.shape[2:]), None,
            layer.stride, layer.padding, layer.dilation,
            layer.groups * batch)
        outs.append(out.view(batch, layer.out_channels, *out.shape[-2:]))
    return outs[0] if len(outs) == 1 else torch.cat(outs)


def matmul(layer: 'ODConv2d', x: torch.Tensor, att: Attentions,
           fold: bool) -> torch.Tensor:
    """Per-sample 1x1 kernels applied by one batched matmul."""
    w = _kernels(layer, x, att, fold)
    if layer.stride != (1, 1):
        x = x[:, :, ::layer.stride[0], ::layer.stride[1]]
    batch, c_in, h, wd = x.shape
    out = torch.matmul(
        w.reshape(batch, layer.out_channels, c_in),
        x.to(w.dtype).reshape(batch, c_in, h * wd))
    return out.view(batch, layer.out_channels, h, wd)


def unfold(layer: 'ODConv2d', x: torch.Tensor, att: Attentions,
           fold: bool) -> torch.Tensor:
    """im2col and a batched matmul: nothing depends on the batch size when
    traced (ONNX export with a dynamic batch)."""
    w = _kernels(layer, x, att, fold)
    batch, _, h, wd = x.shape
    (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
    (ph, pw), (dh, dw) = layer.padding, layer.dilation
    h_out = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w_out = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    g = layer.groups
    cols = F.unfold(x.to(w.dtype), layer.kernel_size, layer.dilation,
                    layer.padding, layer.stride)
    out = torch.matmul(
        w.view(batch, g, layer.out_channels // g, -1),
        cols.view(batch, g, -1, h_out * w_out))
    return out.view(batch, layer.out_channels, h_out, w_out)


def _anywhere(layer: 'ODConv2d') -> bool:
    return True


FORMULATIONS: Dict[str, Formulation] = {
    'static': Formulation('kernel_num=1 and a 1x1 kernel',
                          lambda layer: layer.static_kernel, static),
    'matmul': Formulation('a 1x1 kernel, groups=1 and padding=0',
                          is_plain_1x1, matmul),
    'loop': Formulation('', _anywhere, loop),
    'grouped': Formulation('', _anywhere, grouped),
    'unfold': Formulation('', _anywhere, unfold),
}
IMPLS = ('auto', ) + tuple(FORMULATIONS)
