"""Deployment helpers: fold BN into ODConv, export to ONNX with a dynamic
batch axis.

ODConv's kernel depends on the input, so it cannot become a static conv;
what *can* be folded is an inference BN that follows it: BN scales each
output channel by ``s = gamma / sqrt(var + eps)`` and shifts it by
``beta - mean * s``. The scale commutes with every attention (they multiply)
and with the bank aggregation (it is linear), so it goes into every kernel
of the bank; the shift becomes ODConv's plain bias.
"""
import contextlib
import inspect
from collections import Counter
from typing import Iterator, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from .layers import ODConv2d
from .layers._log import log


def _fold(conv: ODConv2d, bn: _BatchNorm) -> None:
    std = torch.sqrt(bn.running_var + bn.eps)
    scale = (bn.weight if bn.affine else torch.ones_like(std)) / std
    shift = (bn.bias if bn.affine else torch.zeros_like(std)) \
        - bn.running_mean * scale
    with torch.no_grad():
        conv.weight.mul_(scale.view(1, -1, 1, 1, 1))
        if conv.bias is None:
            conv.bias = nn.Parameter(shift.clone())
        else:
            conv.bias.mul_(scale).add_(shift)


def _conv_bn_pairs(
    module: nn.Module,
    prefix: str = ''
) -> Iterator[Tuple[nn.Module, str, str, ODConv2d, _BatchNorm]]:
    """(parent, BN name, BN path, ODConv2d, BN) for every BN that directly
    follows an ODConv2d among its siblings (registration order, as MMCV's
    ``fuse_conv_bn``), with matching channels and running statistics,
    whatever the modules are called. A module registered twice is walked
    twice (the caller drops repeats); ODConv2d layers are not entered, so
    the attention's own BN is never taken."""
    last: Optional[ODConv2d] = None
    for name, child in module.named_children():
        if isinstance(child, _BatchNorm) and last is not None:
            if child.track_running_stats and \
                    child.num_features == last.out_channels:
                yield module, name, prefix + name, last, child
            last = None
        elif isinstance(child, ODConv2d):
            last = child
        else:
            yield from _conv_bn_pairs(child, f'{prefix}{name}.')
            last = None


def _places(module: nn.Module) -> Counter:
    """How many distinct (parent, name) places hold each module, by id: a
    module held in two places is shared (a shared parent is one place)."""
    return Counter(
        id(child) for parent in module.modules()
        for child in parent._modules.values() if child is not None)


def fuse_odconv_bn(module: nn.Module) -> nn.Module:
    """Fold every eval-mode BN that directly follows an ODConv2d (in the
    children's registration order, as MMCV's ``fuse_conv_bn``) into it and
    replace the BN by ``nn.Identity``. The attention's own BN is untouched.
    A pair whose ODConv2d or BN is also used in another place (shared
    modules) is left as it is and logged: folding would change the other
    use. Returns the module, changed in place; call it on an eval-mode
    model (a BN in training mode raises before anything is folded).
    """
    places = _places(module)
    pairs, seen, shared = [], set(), []
    for pair in _conv_bn_pairs(module):
        parent, name, path, conv, bn = pair
        if (id(parent), name) in seen:
            continue  # the same pair, reached through a shared parent
        seen.add((id(parent), name))
        if places[id(conv)] > 1 or places[id(bn)] > 1:
            shared.append(path)
        else:
            pairs.append(pair)
    for _, _, path, _, bn in pairs:
        if bn.training:
            raise ValueError(
                f'fuse_odconv_bn: the BN {path!r} after an ODConv2d is in '
                'training mode, where it normalises with batch statistics '
                'that cannot be folded; call model.eval() first.')
    for parent, name, _, conv, bn in pairs:
        _fold(conv, bn)
        setattr(parent, name, nn.Identity())
    if shared:
        log('fuse_odconv_bn: left unfolded, as their ODConv2d or BN is '
            'also used elsewhere: ' + ', '.join(shared))
    return module


@contextlib.contextmanager
def odconv_impl(model: nn.Module, impl: str) -> Iterator[nn.Module]:
    """Temporarily force every ODConv2d of ``model`` to one formulation."""
    layers = [m for m in model.modules() if isinstance(m, ODConv2d)]
    saved = [m.impl for m in layers]
    try:
        for m in layers:
            m.impl = 'static' if m.static_kernel else impl
        yield model
    finally:
        for m, s in zip(layers, saved):
            m.impl = s


def export_onnx(model: nn.Module,
                path: str,
                input_shape: Sequence[int] = (1, 3, 224, 224),
                opset: int = 17,
                dynamic_batch: bool = True) -> str:
    """Export ``model`` (eval mode) to ONNX with a dynamic batch axis.

    ODConv layers are traced with the ``unfold`` formulation (im2col and a
    batched matmul), in which nothing depends on the batch size; the
    official batch-folded grouped conv would bake it in as ``groups``.
    """
    model.eval()
    x = torch.randn(*input_shape)
    dynamic_axes = {'input': {0: 'batch'}, 'output': {0: 'batch'}} \
        if dynamic_batch else None
    # torch >= 2.5 also offers a dynamo-based exporter; we trace (the
    # classic exporter, the only one before 2.5).
    extra = ({'dynamo': False} if 'dynamo' in inspect.signature(
        torch.onnx.export).parameters else {})
    with odconv_impl(model, 'unfold'), torch.no_grad():
        torch.onnx.export(
            model, (x, ),
            path,
            input_names=['input'],
            output_names=['output'],
            opset_version=opset,
            dynamic_axes=dynamic_axes,
            **extra)
    return path
