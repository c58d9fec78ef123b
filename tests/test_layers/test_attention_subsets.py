"""``attentions=``: any subset of ODConv's four attentions, checked against
the naive per-sample reference; absent ones build no parameters."""
import itertools

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmdet_odconv import ODConv2d
from tests.reference import (ALL_ATTENTIONS, assert_matches_reference,
                             naive_odconv)

SUBSETS = [
    s for r in range(5) for s in itertools.combinations(ALL_ATTENTIONS, r)
]
SQUEEZE_KEYS = {
    'attention.fc.weight', 'attention.bn.weight', 'attention.bn.bias',
    'attention.bn.running_mean', 'attention.bn.running_var',
    'attention.bn.num_batches_tracked'
}


def _randomise(layer):
    """Random attention parameters and BN statistics: no attention is
    trivial."""
    with torch.no_grad():
        for p in layer.attention.parameters():
            p.add_(torch.randn_like(p) * 0.3)
        bn = getattr(layer.attention, 'bn', None)
        if bn is not None:
            bn.running_mean.normal_(0, 0.3)
            bn.running_var.uniform_(0.5, 2.0)
    return layer


def _expected_keys(subset, informative=ALL_ATTENTIONS):
    heads = [a for a in subset if a in informative]
    keys = {'weight'}
    if heads:
        keys |= SQUEEZE_KEYS | {
            f'attention.{a}_fc.{p}'
            for a in heads for p in ('weight', 'bias')
        }
    return keys


def test_sixteen_subsets():
    assert len(SUBSETS) == 16 and len(set(SUBSETS)) == 16


@pytest.mark.parametrize('subset', SUBSETS, ids=lambda s: '+'.join(s) or '0')
@pytest.mark.parametrize('kernel_num', [1, 4])
@pytest.mark.parametrize('training', [True, False])
@pytest.mark.parametrize('batch', [1, 3])
def test_every_subset_matches_reference(subset, kernel_num, training,
                                        batch):
    """Outputs and gradients of a 3x3 conv, n = 1 and 4, against the naive
    reference told the subset; n > 1 without 'kernel' is refused."""
    args = dict(in_channels=8, out_channels=16, kernel_size=3, padding=1,
                kernel_num=kernel_num, min_channel=4, attentions=subset)
    if kernel_num > 1 and 'kernel' not in subset:
        with pytest.raises(ValueError, match='needs the kernel attention'):
            ODConv2d(**args)
        return
    torch.manual_seed(0)
    layer = _randomise(ODConv2d(**args)).train(training)
    assert layer.attentions == subset
    x = torch.randn(batch, 8, 9, 7, requires_grad=True)
    assert_matches_reference(layer, x, training, attentions=subset)
    # every parameter is used (no find_unused_parameters under DDP)
    for name, p in layer.named_parameters():
        assert p.grad is not None, name


@pytest.mark.parametrize('subset', SUBSETS, ids=lambda s: '+'.join(s) or '0')
def test_every_formulation_computes_every_subset(subset):
    n = 4 if 'kernel' in subset else 1
    layer = _randomise(ODConv2d(8, 16, 3, padding=1, kernel_num=n,
                                min_channel=4, attentions=subset)).eval()
    x = torch.randn(3, 8, 6, 6)
    ref = naive_odconv(layer, x, attentions=subset)
    for impl in layer.applicable_impls():
        layer.impl = impl
        torch.testing.assert_close(layer(x), ref, rtol=1e-4, atol=1e-4,
                                   msg=impl)


@pytest.mark.parametrize('subset', SUBSETS, ids=lambda s: '+'.join(s) or '0')
@pytest.mark.parametrize('shape', [(16, 32, 3, 1), (16, 32, 1, 1),
                                   (16, 16, 3, 16)],
                         ids=['3x3', '1x1', 'depthwise'])
def test_absent_attentions_build_no_parameters(subset, shape):
    c_in, c_out, k, groups = shape
    n = 4 if 'kernel' in subset else 1
    layer = ODConv2d(c_in, c_out, k, groups=groups, kernel_num=n,
                     attentions=subset)
    informative = {'channel'}
    if groups == 1:
        informative.add('filter')
    if k > 1:
        informative.add('spatial')
    if n > 1:
        informative.add('kernel')
    assert set(layer.state_dict()) == _expected_keys(subset, informative)
    att = layer.attention(torch.randn(2, c_in, 5, 5))
    for name in ALL_ATTENTIONS:
        assert (getattr(att, name) is None) == (name not in subset
                                                or name not in informative)


@pytest.mark.parametrize('bias', [False, True])
@pytest.mark.parametrize('k', [1, 3])
def test_empty_subset_with_one_kernel_is_a_static_conv(k, bias):
    layer = ODConv2d(8, 16, k, padding=k // 2, kernel_num=1, bias=bias,
                     attentions=()).train()
    assert list(layer.attention.parameters()) == []
    assert layer.static_kernel and layer.choose_impl(3) in ('static',
                                                            'matmul')
    if bias:
        with torch.no_grad():
            layer.bias.normal_()
    x = torch.randn(3, 8, 7, 7)
    expected = F.conv2d(x, layer.weight[0], layer.bias, padding=k // 2)
    torch.testing.assert_close(layer(x), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('kwargs, match', [
    (dict(kernel_num=4, attentions=('channel', 'filter', 'spatial')),
     r"kernel_num=4 needs the kernel attention.*add 'kernel'"),
    (dict(kernel_num=2, attentions=()), 'needs the kernel attention'),
    (dict(attentions=('channel', 'chanel', 'kernel')),
     r"unknown attention name\(s\) \['chanel'\].*the names are"),
    (dict(attentions='kernel'), 'collection of attention names.*string'),
    (dict(attentions=None), 'collection of attention names'),
    (dict(attentions=4), 'collection of attention names'),
])
def test_bad_attentions_are_refused_with_the_rule(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ODConv2d(8, 16, 3, **kwargs)


def test_kernel_only_is_the_attention_weighted_mix_of_the_bank():
    """The DyConv/CondConv-style layer: the kernel softmax mixes the bank,
    nothing else scales (written out here, not through the reference)."""
    layer = _randomise(ODConv2d(8, 16, 3, padding=1, kernel_num=4,
                                min_channel=4, attentions=['kernel'])).eval()
    assert layer.attentions == ('kernel', )
    assert {n for n, _ in layer.attention.named_children()} == {
        'fc', 'bn', 'relu', 'kernel_fc'
    }
    x = torch.randn(2, 8, 6, 6)
    att = layer.attention
    s = torch.relu(att.bn(att.fc(x.mean((2, 3), keepdim=True))))
    a = torch.softmax(att.kernel_fc(s).flatten(1), 1)
    expected = torch.cat([
        F.conv2d(x[b:b + 1], (a[b].view(4, 1, 1, 1, 1) * layer.weight).sum(0),
                 padding=1) for b in range(2)
    ])
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('subset, heads', [
    (('kernel', ), 0),
    (('channel', 'kernel'), 1),
    ((), 0),
    (ALL_ATTENTIONS, 3),
])
def test_static_checkpoint_inflates_with_subsets(subset, heads):
    """A static conv weight loads as the static conv itself; the kernels
    are scaled by 2 per sigmoid head (2**0 = 1 without one)."""
    n = 4 if 'kernel' in subset else 1
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=1, bias=False)
    layer = ODConv2d(8, 16, 3, padding=1, kernel_num=n, min_channel=4,
                     attentions=subset)
    missing, unexpected = layer.load_state_dict(conv.state_dict(),
                                                strict=False)
    assert unexpected == [] and 'weight' not in missing
    for i in range(n):
        torch.testing.assert_close(layer.weight[i], conv.weight * 2**heads)
    x = torch.randn(2, 8, 7, 7)
    torch.testing.assert_close(layer.eval()(x), conv(x), rtol=1e-5,
                               atol=1e-5)
    # a one-kernel ODConv checkpoint of the same subset fills the bank
    one = ODConv2d(8, 16, 3, padding=1, kernel_num=1, min_channel=4,
                   attentions=[a for a in subset if a != 'kernel'])
    if n > 1:
        layer.load_state_dict({'weight': one.weight.detach()}, strict=False)
        assert all(torch.equal(layer.weight[i], one.weight[0])
                   for i in range(n))


def test_subset_is_reachable_through_mmcv_builders():
    from mmcv.cnn import ConvModule, build_conv_layer
    cfg = dict(type='ODConv', attentions=('channel', 'kernel'))
    layer = build_conv_layer(cfg, 8, 16, 3, padding=1)
    assert isinstance(layer, ODConv2d)
    assert layer.attentions == ('channel', 'kernel')
    assert cfg == dict(type='ODConv', attentions=('channel', 'kernel'))
    module = ConvModule(8, 16, 3, padding=1, norm_cfg=dict(type='BN'),
                        conv_cfg=dict(type='ODConv', kernel_num=1,
                                      attentions=['spatial']))
    assert module.conv.attentions == ('spatial', )
    assert not hasattr(module.conv.attention, 'channel_fc')
    assert module(torch.randn(2, 8, 6, 6)).shape == (2, 16, 6, 6)
    with pytest.raises(ValueError, match='needs the kernel attention'):
        build_conv_layer(dict(type='ODConv', attentions=('channel', )), 8,
                         16, 3)


def test_subset_is_reachable_through_odresnet():
    from mmdet_odconv.models import ODResNet
    model = ODResNet(depth=18, base_channels=8, out_indices=(3, ),
                     odconv=dict(kernel_num=4, attentions=['kernel']))
    layers = [m for m in model.modules() if isinstance(m, ODConv2d)]
    assert layers and all(m.attentions == ('kernel', ) for m in layers)
    names = {n.rsplit('.', 2)[-2] for n, _ in model.named_parameters()
             if '.attention.' in n}
    assert names == {'fc', 'bn', 'kernel_fc'}
    model.train()
    out = model(torch.randn(2, 3, 32, 32))
    out[0].sum().backward()
    assert all(p.grad is not None for m in layers for p in m.parameters())
