"""ODConv2d against an independent per-sample reference and nn.Conv2d."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmdet_odconv import IMPLS, ODConv2d
from tests.reference import assert_matches_reference, naive_odconv

# (C_in, C_out, k, stride, padding, dilation, groups)
SHAPES = [
    (8, 16, 3, 1, 1, 1, 1),
    (8, 16, 1, 1, 0, 1, 1),
    (8, 12, 3, 2, 1, 1, 1),
    (8, 8, 3, 1, 2, 2, 1),
    (8, 12, 3, 1, 1, 1, 2),
    (8, 8, 3, 1, 1, 1, 8),  # depthwise
    (8, 16, 1, 2, 0, 1, 1),
    (6, 4, 5, 1, 2, 1, 2),
]


def _randomise(layer):
    """Random BN statistics and head biases so no attention is trivial."""
    with torch.no_grad():
        for p in layer.attention.parameters():
            p.add_(torch.randn_like(p) * 0.3)
        bn = layer.attention.bn
        bn.running_mean.normal_(0, 0.3)
        bn.running_var.uniform_(0.5, 2.0)
    return layer


def _close(a, b, tol=1e-4):
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('kernel_num', [1, 4])
@pytest.mark.parametrize('training', [True, False])
@pytest.mark.parametrize('batch', [1, 3])
def test_matches_naive_reference(shape, kernel_num, training, batch):
    c_in, c_out, k, s, p, d, g = shape
    layer = _randomise(ODConv2d(c_in, c_out, k, s, p, d, g,
                                kernel_num=kernel_num, min_channel=4))
    layer.train(training)
    x = torch.randn(batch, c_in, 11, 9, requires_grad=True)
    assert_matches_reference(layer, x, training)


@pytest.mark.parametrize('impl', [i for i in IMPLS if i != 'static'])
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('batch', [1, 2, 4])
def test_every_impl_matches_reference(impl, shape, batch):
    c_in, c_out, k, s, p, d, g = shape
    args = (c_in, c_out, k, s, p, d, g)
    if impl not in ('auto', ) + ODConv2d(*args,
                                          kernel_num=4).applicable_impls():
        with pytest.raises(ValueError, match=f'impl={impl!r} cannot'):
            ODConv2d(*args, kernel_num=4, impl=impl)
        return
    layer = _randomise(ODConv2d(*args, kernel_num=4, min_channel=4,
                                impl=impl)).eval()
    x = torch.randn(batch, c_in, 10, 10, requires_grad=True)
    out = layer(x)
    xr = x.detach().clone().requires_grad_(True)
    ref = naive_odconv(layer, xr)
    _close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    _close(x.grad, xr.grad)


@pytest.mark.parametrize('fold', [True, False])
def test_folding_attention_into_kernel_is_exact(fold, monkeypatch):
    """Both sides of the fold heuristic give the reference result."""
    layer = _randomise(ODConv2d(8, 16, 3, padding=1, min_channel=4)).eval()
    monkeypatch.setattr(layer, 'folds_attention', lambda x: fold)
    x = torch.randn(3, 8, 7, 7)
    _close(layer(x), naive_odconv(layer, x))


@pytest.mark.parametrize('samples_per_chunk', [1, 2, 3])
@pytest.mark.parametrize('training', [True, False])
def test_grouped_batch_chunks_match_reference(samples_per_chunk, training):
    """Batches above ``kernel_bytes`` of kernels run in chunks (uneven
    last chunk included) with the same outputs and gradients."""
    layer = _randomise(ODConv2d(8, 12, 3, 2, 1, groups=2, min_channel=4,
                                impl='grouped')).train(training)
    per_sample = layer.weight[0].numel() * 4
    assert ODConv2d.kernel_bytes['cpu'] == 24 << 20  # the class default
    layer.kernel_bytes = {'cpu': per_sample * samples_per_chunk}
    x = torch.randn(5, 8, 9, 9, requires_grad=True)
    assert layer.batch_chunk(x) == samples_per_chunk
    assert_matches_reference(layer, x, training)


@pytest.mark.parametrize('kernel_num', [1, 4])
@pytest.mark.parametrize('shape', [SHAPES[0], SHAPES[1], SHAPES[5]])
def test_inference_without_autograd_matches_reference(shape, kernel_num):
    """Under no_grad the attention heads run fused; same result."""
    c_in, c_out, k, s, p, d, g = shape
    layer = _randomise(ODConv2d(c_in, c_out, k, s, p, d, g,
                                kernel_num=kernel_num, min_channel=4)).eval()
    x = torch.randn(2, c_in, 9, 9)
    with torch.no_grad():
        out = layer(x)
    _close(out, naive_odconv(layer, x))


def test_static_impl_matches_reference():
    layer = _randomise(ODConv2d(8, 16, 1, kernel_num=1, min_channel=4,
                                impl='static')).train()
    x = torch.randn(3, 8, 5, 5)
    _close(layer(x), naive_odconv(layer, x, True))


def test_unit_attention_equals_static_conv_with_summed_kernel():
    """Attentions forced to 1 (heads zeroed, huge biases): ODConv reduces to
    F.conv2d with the sum of the kernel bank (kernel attention 1/n each)."""
    n = 4
    layer = ODConv2d(8, 16, 3, padding=1, kernel_num=n, min_channel=4).eval()
    att = layer.attention
    with torch.no_grad():
        for fc in (att.channel_fc, att.filter_fc, att.spatial_fc,
                   att.kernel_fc):
            fc.weight.zero_()
            fc.bias.fill_(0.0 if fc is att.kernel_fc else 50.0)
    x = torch.randn(2, 8, 9, 9)
    expected = F.conv2d(x, layer.weight.sum(0) / n, padding=1)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_one_kernel_1x1_layer_is_a_static_conv_with_scalings():
    layer = ODConv2d(8, 16, 1, kernel_num=1, min_channel=4).eval()
    x = torch.randn(2, 8, 6, 6)
    conv = nn.Conv2d(8, 16, 1, bias=False)
    conv.weight.data.copy_(layer.weight[0])
    ca, fa, sa, ka = layer.attention(x)
    assert sa is None and ka is None
    expected = conv(x * ca[:, :, None, None]) * fa[:, :, None, None]
    torch.testing.assert_close(layer(x), expected)


def test_gradcheck_double():
    layer = ODConv2d(4, 4, 3, padding=1, groups=2, kernel_num=2,
                     min_channel=2, bias=True).double().eval()
    _randomise(layer)
    x = torch.randn(2, 4, 5, 5, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x, ), eps=1e-6, atol=1e-5)
    layer.train()
    assert torch.autograd.gradcheck(layer, (x, ), eps=1e-6, atol=1e-5)


def test_bias_is_a_plain_static_bias():
    layer = ODConv2d(8, 16, 3, padding=1, bias=True, min_channel=4).eval()
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(2, 8, 6, 6)
    no_bias = copy.deepcopy(layer)
    no_bias.bias = None
    _close(layer(x), no_bias(x) + layer.bias.view(1, -1, 1, 1))
    _close(layer(x), naive_odconv(layer, x))
    layer(x).sum().backward()
    assert layer.bias.grad is not None


def test_conv2d_attributes_and_pairs():
    layer = ODConv2d(8, 16, (3, 3), stride=(2, 2), padding=(1, 1),
                     dilation=(1, 1), groups=2)
    conv = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2)
    for attr in ('in_channels', 'out_channels', 'kernel_size', 'stride',
                 'padding', 'dilation', 'groups', 'transposed',
                 'output_padding'):
        assert getattr(layer, attr) == getattr(conv, attr), attr
    x = torch.randn(2, 8, 15, 17)
    assert layer(x).shape == conv(x).shape


def test_empty_batch():
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=4).train()
    x = torch.randn(0, 8, 7, 7, requires_grad=True)
    out = layer(x)
    assert out.shape == (0, 16, 7, 7)
    out.sum().backward()


def test_nan_input_propagates():
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=4).eval()
    x = torch.randn(2, 8, 5, 5)
    x[1, 0, 2, 2] = float('nan')
    out = layer(x)
    assert torch.isnan(out[1]).all()
    assert torch.isfinite(out[0]).all()


def test_eval_output_independent_of_batch():
    """In eval mode a sample's output never depends on its batch-mates."""
    layer = _randomise(ODConv2d(8, 16, 3, padding=1, min_channel=4)).eval()
    x = torch.randn(4, 8, 9, 9)
    full = layer(x)
    for i in range(4):
        _close(layer(x[i:i + 1]), full[i:i + 1])


def test_batch_size_one_trains_with_bn():
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=4).train()
    before = layer.attention.bn.running_mean.clone()
    x = torch.randn(1, 8, 6, 6)
    out = layer(x)
    out.sum().backward()
    assert layer.weight.grad is not None
    # documented: running statistics are used and left unchanged
    torch.testing.assert_close(layer.attention.bn.running_mean, before)
    _close(out, naive_odconv(layer, x, True))


@pytest.mark.parametrize('temperature', [0.5, 30.0])
def test_temperature_divides_logits(temperature):
    layer = _randomise(ODConv2d(8, 16, 3, padding=1, min_channel=4)).eval()
    layer.set_temperature(temperature)
    x = torch.randn(2, 8, 6, 6)
    _close(layer(x), naive_odconv(layer, x))
    ca, _, _, ka = layer.attention(x)
    layer.set_temperature(1.0)
    ca1, _, _, ka1 = layer.attention(x)
    # a higher temperature flattens the kernel softmax
    spread = (ka.max(1).values - ka.min(1).values).mean()
    spread1 = (ka1.max(1).values - ka1.min(1).values).mean()
    assert (spread < spread1) == (temperature > 1)
