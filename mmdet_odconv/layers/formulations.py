"""The ways of computing ODConv, in one table, and the choice among them.

Every formulation computes the same function; they differ in speed and in
what a traced graph bakes in. Each takes the input, the kernel bank, the
attentions to build into the per-sample kernels, the layer's
``ConvGeometry`` and the bound on kernel bytes built at once, and returns
the convolution's output. The layer applies the attentions that are not
built into the kernels (channel on the input, filter on the output) itself.
``choose_impl`` picks one per call for ``impl='auto'``; benchmarks/README.md
says why. Nothing here reads the layer.
"""
import warnings
from typing import Callable, Dict, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F

from ._compat import (autocast_dtype, autocast_enabled, is_compiling,
                      is_exporting)
from .attention import Attentions, attention_dtype


class ConvGeometry(NamedTuple):
    """What a formulation needs to know of a layer, fixed when it is built
    (``static_kernel``: no spatial or kernel attention, so every sample has
    the same kernel)."""
    in_channels: int
    out_channels: int
    kernel_size: Tuple[int, int]
    stride: Tuple[int, int]
    padding: Tuple[int, int]
    dilation: Tuple[int, int]
    groups: int
    kernel_num: int
    static_kernel: bool

    def conv(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """An ordinary conv with this geometry and kernel ``w``."""
        return F.conv2d(x, w, None, self.stride, self.padding,
                        self.dilation, self.groups)


# (input, bank, attentions to build into the kernels, geometry, bytes of
# kernels at once or None) -> output
Compute = Callable[[
    torch.Tensor, torch.Tensor, Attentions, ConvGeometry, Optional[int]
], torch.Tensor]


class Formulation(NamedTuple):
    """What a formulation needs (in words, and as a test on the geometry),
    the function computing it, and whether a graph traced from it is right
    at every batch size (``any_batch``)."""
    needs: str
    applies: Callable[[ConvGeometry], bool]
    compute: Compute
    any_batch: bool


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype the convolution runs in (autocast's, if enabled)."""
    if autocast_enabled(x.device.type):
        return autocast_dtype(x.device.type)
    return x.dtype


def sample_kernels(bank: torch.Tensor, att: Attentions, geom: ConvGeometry,
                   batch: int) -> torch.Tensor:
    """Per-sample kernels (B, C_out, C_in/g, kh, kw), float32 (float64 for
    a float64 bank), with every attention of ``att`` multiplied in.

    The bank (n, C_out, C_in/g, kh, kw) is aggregated by one matmul over
    ``n``; no (B, n, ...) tensor is built.
    """
    n, c_out, c_in_g, kh, kw = bank.shape
    weight = bank.to(attention_dtype(bank.dtype))
    if att.kernel is not None:
        w = _aggregate_bank(att.kernel, weight.reshape(n, -1)).view(
            batch, c_out, c_in_g, kh, kw)
    else:
        w = weight.expand(batch, -1, -1, -1, -1)
    # Scalings after the first new tensor may go in place (no second
    # kernel-sized buffer) when nothing records them.
    owned = att.kernel is not None
    if att.spatial is not None:
        w = scale(w, att.spatial.view(batch, 1, 1, kh, kw), owned)
        owned = True
    if att.filter is not None:
        w = scale(w, att.filter.view(batch, c_out, 1, 1, 1), owned)
        owned = True
    if att.channel is not None:
        g = geom.groups
        w = scale(
            w.view(batch, g, c_out // g, c_in_g, kh * kw),
            att.channel.view(batch, g, 1, c_in_g, 1), owned)
        w = w.view(batch, c_out, c_in_g, kh, kw)
    return w


def _kernels(x: torch.Tensor, bank: torch.Tensor, att: Attentions,
             geom: ConvGeometry) -> torch.Tensor:
    return sample_kernels(bank, att, geom, x.size(0)).to(compute_dtype(x))


def static(x: torch.Tensor, bank: torch.Tensor, att: Attentions,
           geom: ConvGeometry, kernel_bytes: Optional[int]) -> torch.Tensor:
    """The kernel is shared: one ordinary conv for the whole batch."""
    return geom.conv(x, bank[0].to(compute_dtype(x)))


def loop(x: torch.Tensor, bank: torch.Tensor, att: Attentions,
         geom: ConvGeometry, kernel_bytes: Optional[int]) -> torch.Tensor:
    """One ordinary conv per sample."""
    w = _kernels(x, bank, att, geom)
    if x.size(0) == 1:
        return geom.conv(x, w[0])
    return torch.cat([geom.conv(x[i:i + 1], w[i]) for i in range(x.size(0))])


def batch_chunk(batch: int, bank: torch.Tensor,
                kernel_bytes: Optional[int]) -> int:
    """Samples per chunk of ``grouped``: as many float32 kernels as fit in
    ``kernel_bytes`` (at least one), or the whole batch without a bound."""
    if kernel_bytes is None:
        return batch
    return max(1, int(kernel_bytes) // (bank[0].numel() * 4))


def grouped(x: torch.Tensor, bank: torch.Tensor, att: Attentions,
            geom: ConvGeometry, kernel_bytes: Optional[int]) -> torch.Tensor:
    """The batch folded into the groups of one conv (the official way), in
    chunks of at most ``kernel_bytes`` of kernels."""
    chunk = batch_chunk(x.size(0), bank, kernel_bytes)
    outs = []
    for i in range(0, x.size(0), chunk):
        part = Attentions(*(None if a is None else a[i:i + chunk]
                            for a in att))
        xs = x[i:i + chunk]
        w = _kernels(xs, bank, part, geom)
        if xs.size(0) == 1:
            outs.append(geom.conv(xs, w[0]))
            continue
        batch, _, h, wd = xs.shape
        out = F.conv2d(
            xs.reshape(1, -1, h, wd), w.reshape(-1, *w.shape[2:]), None,
            geom.stride, geom.padding, geom.dilation, geom.groups * batch)
        outs.append(out.view(batch, geom.out_channels, *out.shape[-2:]))
    return outs[0] if len(outs) == 1 else torch.cat(outs)


def matmul(x: torch.Tensor, bank: torch.Tensor, att: Attentions,
           geom: ConvGeometry, kernel_bytes: Optional[int]) -> torch.Tensor:
    """Per-sample 1x1 kernels applied by one batched matmul."""
    w = _kernels(x, bank, att, geom)
    if geom.stride != (1, 1):
        x = x[:, :, ::geom.stride[0], ::geom.stride[1]]
    batch, c_in, h, wd = x.shape
    out = torch.matmul(
        w.reshape(batch, geom.out_channels, c_in),
        x.to(w.dtype).reshape(batch, c_in, h * wd))
    return out.view(batch, geom.out_channels, h, wd)


def unfold(x: torch.Tensor, bank: torch.Tensor, att: Attentions,
           geom: ConvGeometry, kernel_bytes: Optional[int]) -> torch.Tensor:
    """im2col and a batched matmul: nothing depends on the batch size when
    traced (ONNX export with a dynamic batch)."""
    w = _kernels(x, bank, att, geom)
    batch, _, h, wd = x.shape
    (kh, kw), (sh, sw) = geom.kernel_size, geom.stride
    (ph, pw), (dh, dw) = geom.padding, geom.dilation
    h_out = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w_out = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    g = geom.groups
    cols = F.unfold(x.to(w.dtype), geom.kernel_size, geom.dilation,
                    geom.padding, geom.stride)
    out = torch.matmul(
        w.view(batch, g, geom.out_channels // g, -1),
        cols.view(batch, g, -1, cols.size(-1)))
    return out.view(batch, geom.out_channels, h_out, w_out)


def is_plain_1x1(geom: ConvGeometry) -> bool:
    return (geom.kernel_size == (1, 1) and geom.groups == 1
            and geom.padding == (0, 0))


def _anywhere(geom: ConvGeometry) -> bool:
    return True


FORMULATIONS: Dict[str, Formulation] = {
    'static': Formulation(
        'kernel_num=1 and a 1x1 kernel (or attentions without spatial and '
        'kernel): the same kernel for every sample',
        lambda geom: geom.static_kernel, static, True),
    'matmul': Formulation('a 1x1 kernel, groups=1 and padding=0',
                          is_plain_1x1, matmul, True),
    # one conv per sample, a Python loop: a trace keeps its length
    'loop': Formulation('', _anywhere, loop, False),
    # the batch is the number of groups: a trace keeps it
    'grouped': Formulation('', _anywhere, grouped, False),
    'unfold': Formulation('', _anywhere, unfold, True),
}
IMPLS = ('auto', ) + tuple(FORMULATIONS)


def applicable_impls(geom: ConvGeometry) -> Tuple[str, ...]:
    """The formulations that can compute a layer of geometry ``geom``."""
    return tuple(k for k, f in FORMULATIONS.items() if f.applies(geom))


def recording() -> bool:
    """Whether a graph is being recorded for later calls (``torch.jit.
    trace``, the classic ``torch.onnx.export``, ``torch.export``)."""
    if is_compiling():  # torch.compile or torch.export: ask only dynamo
        return is_exporting()
    return torch.jit.is_tracing()


def choose_impl(geom: ConvGeometry, batch: int) -> str:
    """The formulation ``impl='auto'`` uses for ``batch`` samples.

    Shapes decide alone: a batched matmul for plain 1x1 convs, the static
    form for a shared kernel, one ordinary conv for one sample, else the
    grouped conv over the batch. While a graph is recorded, the last two,
    whose graphs hold the batch size, give way to ``unfold``, whose graph
    is right at every batch size.
    """
    for name in ('matmul', 'static'):
        if FORMULATIONS[name].applies(geom):
            return name
    if recording():
        return 'unfold'
    return 'loop' if batch == 1 else 'grouped'


def resolve_impl(impl: str, geom: ConvGeometry, batch: int) -> str:
    """The formulation a layer with ``impl`` uses for ``batch`` samples;
    warns when a forced one is traced into a graph that holds the batch
    size."""
    if impl == 'auto':
        return choose_impl(geom, batch)
    if not FORMULATIONS[impl].any_batch and recording():
        warnings.warn(
            f"ODConv2d with impl={impl!r} is traced at batch size {batch}: "
            'the graph is right at this batch size only; use '
            "impl='auto' or 'unfold' for a graph that takes any batch size",
            stacklevel=3)
    return impl


def _aggregate_bank(kernel: torch.Tensor,
                    bank: torch.Tensor) -> torch.Tensor:
    """``kernel (B, n) @ bank (n, K)``, in float32 even under autocast (a
    low-precision matmul would round the bank and cast it every call)."""
    if autocast_enabled(bank.device.type):
        with torch.autocast(bank.device.type, enabled=False):
            return kernel @ bank
    return kernel @ bank


def scale(t: torch.Tensor, a: torch.Tensor, owned: bool = True
          ) -> torch.Tensor:
    """``t * a``, in place when ``t`` is a temporary of ours that nothing
    records (no autograd, no tracing: the graph must not depend on it)."""
    if owned and not torch.is_grad_enabled() \
            and not torch.jit.is_tracing():
        return t.mul_(a)
    return t * a
