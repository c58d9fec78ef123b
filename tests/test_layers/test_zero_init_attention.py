"""``zero_init_attention``: the layer starts as a static conv and learns."""
import pytest
import torch
import torch.nn.functional as F

from mmdet_odconv import ODConv2d
from tests.reference import naive_odconv


@pytest.mark.parametrize('attentions,kernel_num,groups', [
    (('channel', 'filter', 'spatial', 'kernel'), 4, 1),
    (('channel', 'filter', 'spatial', 'kernel'), 1, 1),
    (('kernel', ), 4, 1),
    (('channel', 'filter', 'spatial', 'kernel'), 4, 8),  # depthwise
])
def test_starts_as_the_static_conv_of_the_mean_kernel(attentions, kernel_num,
                                                      groups):
    """Every sample gets the bank's mean, times 1/2 per sigmoid attention
    the layer has (no filter one for a depthwise conv)."""
    layer = ODConv2d(8, 8, 3, padding=1, groups=groups, kernel_num=kernel_num,
                     attentions=attentions, zero_init_attention=True).eval()
    x = torch.randn(3, 8, 7, 7)
    sigmoids = [a for a in attentions if a != 'kernel']
    if groups == 8:
        sigmoids.remove('filter')
    kernel = layer.weight.mean(0) * 0.5**len(sigmoids)
    want = F.conv2d(x, kernel, padding=1, groups=groups)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), want, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(naive_odconv(layer, x), want, rtol=1e-5,
                                   atol=1e-5)


def test_default_keeps_the_official_init_and_zero_init_still_learns():
    official = ODConv2d(8, 16, 3, padding=1)
    assert all(official.attention._modules[f'{a}_fc'].weight.abs().sum() > 0
               for a in official.attention.heads)
    layer = ODConv2d(8, 16, 3, padding=1, zero_init_attention=True)
    x = torch.randn(4, 8, 6, 6)
    layer(x).square().mean().backward()
    for a in layer.attention.heads:  # the heads get a gradient at once
        assert layer.attention._modules[f'{a}_fc'].weight.grad.abs().sum() > 0
    layer.init_weights()  # as MMEngine's init_weights calls it
    assert all(layer.attention._modules[f'{a}_fc'].weight.abs().sum() == 0
               for a in layer.attention.heads)
    with pytest.raises(TypeError, match='zero_init_attention'):
        ODConv2d(8, 16, 3, zero_init_attention='yes')


def test_reachable_through_conv_cfg_and_the_backbones():
    from mmcv.cnn import build_conv_layer

    from mmdet_odconv.models import ODResNet
    conv = build_conv_layer(
        dict(type='ODConv', zero_init_attention=True), 8, 16, 3)
    assert conv.attention.zero_init
    backbone = ODResNet(depth=18, odconv=dict(zero_init_attention=True))
    backbone.init_weights()
    layers = [m for m in backbone.modules() if isinstance(m, ODConv2d)]
    assert layers and all(m.attention.zero_init for m in layers)
    assert all(m.attention.kernel_fc.weight.abs().sum() == 0 for m in layers)
