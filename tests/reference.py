"""An independent, naive ODConv: a loop over samples, written from the paper.

It reads the parameters of an ``ODConv2d`` but none of its code, so the
layer's fast paths are checked against the plain definition.
"""
import copy

import torch
import torch.nn.functional as F


def squeeze(att, x, training):
    """GAP -> FC -> BN (batch statistics in training) -> ReLU, (B, width)."""
    s = x.mean(dim=(2, 3))
    s = s @ att.fc.weight.flatten(1).t()
    if att.fc.bias is not None:  # a BN fused into the FC (fuse_conv_bn)
        s = s + att.fc.bias
    bn = att.bn
    if not hasattr(bn, 'running_mean'):  # no norm (None, or fused away)
        return torch.relu(s)
    if training and x.size(0) > 1:
        mean = s.mean(0)
        var = s.var(0, unbiased=False)
    else:  # eval, or the documented batch-size-1 training behaviour
        mean, var = bn.running_mean, bn.running_var
    s = (s - mean) / torch.sqrt(var + bn.eps) * bn.weight + bn.bias
    return torch.relu(s)


ALL_ATTENTIONS = ('channel', 'filter', 'spatial', 'kernel')


def informative_attentions(layer, attentions):
    """Of ``attentions``, those that can differ from 1: the filter
    attention of a depthwise conv, the spatial one of a 1x1 conv and the
    kernel one of a single kernel are always 1 (restated from the paper,
    not read from the layer)."""
    n, c_out, _, kh, kw = layer.weight.shape
    depthwise = layer.in_channels == layer.groups == c_out
    trivial = {'filter': depthwise, 'spatial': kh * kw == 1,
               'kernel': n == 1}
    return [a for a in attentions if not trivial.get(a, False)]


def naive_odconv(layer, x, training=None, attentions=None):
    """Per-sample: build the sample's kernel, F.conv2d, filter attention.

    ``attentions``: the ones the layer was asked for (default: its
    ``attentions`` argument, all four); any other attention is 1.
    """
    training = layer.training if training is None else training
    if attentions is None:
        attentions = getattr(layer, 'attentions', ALL_ATTENTIONS)
    used = informative_attentions(layer, attentions)
    att = layer.attention
    t = att.temperature
    s_all = squeeze(att, x, training) if used else None
    n, c_out, c_in_g, k, _ = layer.weight.shape
    outs = []
    for b in range(x.size(0)):

        def head(name, act, default):
            if name not in used:
                return default
            fc = getattr(att, f'{name}_fc')
            return act((fc.weight.flatten(1) @ s_all[b] + fc.bias) / t)

        a_channel = head('channel', torch.sigmoid, torch.ones(x.size(1)))
        a_filter = head('filter', torch.sigmoid, torch.ones(c_out))
        a_spatial = head('spatial', torch.sigmoid,
                         torch.ones(k * k)).view(k, k)
        a_kernel = head('kernel', lambda v: torch.softmax(v, 0),
                        torch.ones(1))
        kernel = sum(a_kernel[i] * a_spatial * layer.weight[i]
                     for i in range(n))
        xb = x[b:b + 1] * a_channel.view(1, -1, 1, 1).to(x.dtype)
        y = F.conv2d(xb, kernel.to(x.dtype), None, layer.stride,
                     layer.padding, layer.dilation, layer.groups)
        y = y * a_filter.view(1, -1, 1, 1).to(x.dtype)
        if layer.bias is not None:
            y = y + layer.bias.view(1, -1, 1, 1)
        outs.append(y)
    return torch.cat(outs)


def assert_matches_reference(layer, x, training, tol=1e-4,
                             attentions=None):
    """Output and gradients (input, bank, every attention parameter) of
    ``layer`` on ``x`` (which requires grad) equal :func:`naive_odconv` on a
    copy of the layer."""
    ref_layer = copy.deepcopy(layer)
    xr = x.detach().clone().requires_grad_(True)
    out = layer(x)
    ref = naive_odconv(ref_layer, xr, training, attentions)
    torch.testing.assert_close(out, ref, rtol=tol, atol=tol)
    grad = torch.randn_like(out)
    out.backward(grad)
    ref.backward(grad)
    torch.testing.assert_close(x.grad, xr.grad, rtol=tol, atol=tol)
    torch.testing.assert_close(layer.weight.grad, ref_layer.weight.grad,
                               rtol=tol, atol=tol)
    for (name, p1), p2 in zip(layer.attention.named_parameters(),
                              ref_layer.attention.parameters()):
        torch.testing.assert_close(p1.grad, p2.grad, rtol=tol, atol=tol,
                                   msg=lambda m: f'{name}: {m}')
