"""Heads, state-dict layout, checkpoint loading, registry and bad input."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.registry import DefaultScope

from mmdet_odconv import ODConv2d

OFFICIAL_KEYS = {
    'weight', 'attention.fc.weight', 'attention.bn.weight',
    'attention.bn.bias', 'attention.bn.running_mean',
    'attention.bn.running_var', 'attention.bn.num_batches_tracked',
    'attention.channel_fc.weight', 'attention.channel_fc.bias'
}


def _head_keys(*heads):
    return {f'attention.{h}_fc.{p}' for h in heads for p in ('weight', 'bias')}


@pytest.mark.parametrize(
    'args, heads',
    [
        (dict(in_channels=32, out_channels=64, kernel_size=3, kernel_num=4),
         ('filter', 'spatial', 'kernel')),
        (dict(in_channels=32, out_channels=64, kernel_size=1, kernel_num=4),
         ('filter', 'kernel')),
        (dict(in_channels=32, out_channels=64, kernel_size=3, kernel_num=1),
         ('filter', 'spatial')),
        (dict(in_channels=32, out_channels=32, kernel_size=3, groups=32,
              kernel_num=4), ('spatial', 'kernel')),  # depthwise
        (dict(in_channels=32, out_channels=32, kernel_size=1, groups=32,
              kernel_num=1), ()),
    ])
def test_heads_and_official_state_dict_layout(args, heads):
    layer = ODConv2d(**args)
    sd = layer.state_dict()
    assert set(sd) == OFFICIAL_KEYS | _head_keys(*heads)
    c_in, c_out = args['in_channels'], args['out_channels']
    k, n, g = args['kernel_size'], args['kernel_num'], args.get('groups', 1)
    width = max(int(c_in * 0.0625), 16)
    assert sd['weight'].shape == (n, c_out, c_in // g, k, k)
    assert sd['attention.fc.weight'].shape == (width, c_in, 1, 1)
    assert sd['attention.channel_fc.weight'].shape == (c_in, width, 1, 1)
    expected = {'filter': c_out, 'spatial': k * k, 'kernel': n}
    for h in heads:
        assert sd[f'attention.{h}_fc.weight'].shape == (expected[h], width,
                                                        1, 1)
        assert sd[f'attention.{h}_fc.bias'].shape == (expected[h], )
    # every parameter gets a gradient (nothing unused under DDP)
    layer(torch.randn(2, c_in, 8, 8)).sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None, name


def test_squeeze_width_follows_reduction_and_min_channel():
    assert ODConv2d(512, 8, 3).attention.fc.out_channels == 32
    assert ODConv2d(512, 8, 3, reduction=0.25).attention.fc.out_channels \
        == 128
    assert ODConv2d(64, 8, 3).attention.fc.out_channels == 16
    assert ODConv2d(64, 8, 3, min_channel=2).attention.fc.out_channels == 4


def test_init_is_kaiming_fan_out_per_kernel():
    torch.manual_seed(0)
    layer = ODConv2d(64, 128, 3, kernel_num=4)
    std = (2.0 / (128 * 9))**0.5  # fan_out of ONE kernel
    for i in range(4):
        assert abs(layer.weight[i].std().item() / std - 1) < 0.05
    att = layer.attention
    assert torch.all(att.bn.weight == 1) and torch.all(att.bn.bias == 0)
    for fc in (att.channel_fc, att.filter_fc, att.spatial_fc, att.kernel_fc):
        assert torch.all(fc.bias == 0)


def test_state_dict_round_trip_strict():
    a = ODConv2d(16, 32, 3, padding=1, kernel_num=4, bias=True)
    b = ODConv2d(16, 32, 3, padding=1, kernel_num=4, bias=True)
    with torch.no_grad():
        a.attention.bn.running_mean.normal_()
    b.load_state_dict(a.state_dict(), strict=True)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    x = torch.randn(2, 16, 6, 6)
    torch.testing.assert_close(a.eval()(x), b.eval()(x))


@pytest.mark.parametrize('k, groups', [(3, 1), (1, 1), (3, 16)])
def test_static_weight_inflates_to_exactly_the_static_conv(k, groups):
    """A static checkpoint carries no attention: the loaded layer must
    compute the static conv itself (pretrained stays pretrained), with the
    kernel head left random so the kernels can separate in training."""
    torch.manual_seed(0)
    c_out = 16 if groups > 1 else 32
    conv = nn.Conv2d(16, c_out, k, padding=k // 2, groups=groups, bias=False)
    layer = ODConv2d(16, c_out, k, padding=k // 2, groups=groups,
                     kernel_num=4)
    layer.attention.bn.running_var.uniform_(0.5, 2)
    kernel_head = layer.attention.kernel_fc.weight.detach().clone()
    missing, unexpected = layer.load_state_dict(conv.state_dict(),
                                                strict=False)
    assert unexpected == [] and 'weight' not in missing
    heads = layer.attention.sigmoid_heads
    for i in range(4):
        torch.testing.assert_close(layer.weight[i],
                                   conv.weight * 2**len(heads))
    for name in heads:
        assert not layer.attention._modules[name].weight.any()
    assert torch.equal(layer.attention.kernel_fc.weight, kernel_head)
    x = torch.randn(3, 16, 7, 7)
    for mode in (False, True):
        torch.testing.assert_close(layer.train(mode)(x), conv(x),
                                   rtol=1e-5, atol=1e-5)
    # kernels get different gradients, so they separate in training
    layer(x).square().sum().backward()
    g = layer.weight.grad
    assert not torch.allclose(g[0], g[1])


def test_static_weight_with_attention_in_the_checkpoint_loads_as_is():
    src = ODConv2d(16, 32, 3, kernel_num=4)
    sd = {k: v for k, v in src.state_dict().items() if k != 'weight'}
    sd['weight'] = torch.randn(32, 16, 3, 3)
    dst = ODConv2d(16, 32, 3, kernel_num=4)
    dst.load_state_dict(sd)
    for i in range(4):
        assert torch.equal(dst.weight[i], sd['weight'])  # no scaling
    assert torch.equal(dst.attention.channel_fc.weight,
                       src.attention.channel_fc.weight)


def test_one_kernel_checkpoint_inflates_other_counts_raise():
    one = ODConv2d(16, 32, 3, kernel_num=1)
    four = ODConv2d(16, 32, 3, kernel_num=4)
    four.load_state_dict({'weight': one.weight.detach()}, strict=False)
    assert all(torch.equal(four.weight[i], one.weight[0]) for i in range(4))
    two = ODConv2d(16, 32, 3, kernel_num=2)
    with pytest.raises(ValueError, match='kernel_num=2.*kernel_num=4'):
        four.load_state_dict(two.state_dict(), strict=False)


def test_build_conv_layer_with_and_without_default_scope():
    layer = build_conv_layer(dict(type='ODConv', kernel_num=4), 64, 64, 3,
                             padding=1)
    assert isinstance(layer, ODConv2d) and layer.kernel_num == 4
    assert layer.padding == (1, 1)
    with DefaultScope.overwrite_default_scope('mmdet'):
        import mmdet.models  # noqa: F401
        layer = build_conv_layer(dict(type='ODConv'), 8, 8, 1)
        assert isinstance(layer, ODConv2d)
    cfg = dict(type='ODConv', kernel_num=2)
    build_conv_layer(cfg, 8, 8, 3)
    assert cfg == dict(type='ODConv', kernel_num=2)  # caller's cfg intact


def test_conv_module_keeps_our_init_and_runs():
    torch.manual_seed(0)
    m = ConvModule(16, 32, 3, padding=1, conv_cfg=dict(type='ODConv'),
                   norm_cfg=dict(type='BN'))
    assert isinstance(m.conv, ODConv2d)
    assert m.conv.bias is None  # ConvModule passes bias=False before a norm
    std = (2.0 / (32 * 9))**0.5
    assert abs(m.conv.weight[1].std().item() / std - 1) < 0.1
    assert m(torch.randn(2, 16, 8, 8)).shape == (2, 32, 8, 8)


@pytest.mark.parametrize('kwargs, match', [
    (dict(kernel_num=0), 'kernel_num must be an int >= 1'),
    (dict(kernel_num=2.0), 'kernel_num must be an int >= 1'),
    (dict(reduction=0), 'reduction must be a number > 0'),
    (dict(reduction=-0.5), 'reduction must be a number > 0'),
    (dict(groups=3), r'in_channels \(8\) must be divisible by groups'),
    (dict(min_channel=0), 'min_channel must be an int >= 1'),
    (dict(temperature=0), 'temperature must be > 0'),
    (dict(impl='fast'), 'impl must be one of'),
    (dict(impl='static'), "impl='static' cannot compute this layer.*"
     'needs kernel_num=1 and a 1x1 kernel'),
    (dict(impl='matmul'), "impl='matmul' cannot compute this layer.*"
     'needs a 1x1 kernel'),
    (dict(impl='single'), 'impl must be one of'),
    (dict(kernel_size=(3, 5)), 'square kernels only'),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    args = dict(in_channels=8, out_channels=16, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ODConv2d(**args)


def test_bad_input_raises_clear_errors():
    layer = ODConv2d(8, 16, 3)
    with pytest.raises(ValueError, match='in_channels=8.*5 channels'):
        layer(torch.randn(2, 5, 8, 8))
    with pytest.raises(ValueError, match='4-D input'):
        layer(torch.randn(8, 8, 8))
    with pytest.raises(ValueError, match='temperature must be > 0'):
        layer.set_temperature(0)
