"""convert_to_odconv on plain PyTorch models."""
import copy
import pytest
import torch
import torch.nn as nn

from mmdet_odconv import ODConv2d, convert_to_odconv
from mmdet_odconv.layers import convert


def _net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
        nn.SiLU(),
        nn.Conv2d(16, 16, 3, stride=2, padding=1,
                  groups=4),
        nn.Conv2d(16, 32, 1, bias=True), nn.SiLU(),
        nn.Conv2d(32, 32, 3, padding='same', dilation=2),
        nn.Conv2d(32, 8, (1, 3)),
        nn.Conv2d(8, 8, 3, padding=1, padding_mode='reflect'),
        nn.ConvTranspose2d(8, 4, 2, stride=2))
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2)
    return net.eval()


def test_converted_model_computes_the_same_then_trains(monkeypatch):
    net = _net()
    x = torch.randn(2, 3, 16, 16)
    ref = net(x)
    lines = []
    monkeypatch.setattr(convert, 'log', lambda msg, *a: lines.append(msg))
    conv = convert_to_odconv(copy.deepcopy(net), kernel_num=4)
    kinds = [type(m).__name__ for m in conv]
    assert kinds[0] == kinds[3] == kinds[4] == kinds[6] == 'ODConv2d'
    assert kinds[7] == kinds[8] == 'Conv2d'
    assert kinds[9] == 'ConvTranspose2d'
    odconv = conv[3]
    assert odconv.stride == (2, 2)
    assert odconv.groups == odconv.kernel_num == 4
    assert conv[6].padding == (2, 2) and conv[4].bias is not None
    torch.testing.assert_close(conv(x), ref, rtol=1e-4, atol=1e-4)
    # one log line names every conv left static, with the reason
    assert len(lines) == 1 and lines[0].startswith('convert_to_odconv')
    for part in ('7 (non-square kernel', "8 (padding_mode='reflect'",
                 '9 (transposed'):
        assert part in lines[0], lines[0]
    # trains: every new parameter gets a gradient, the output changes
    conv.train()
    opt = torch.optim.SGD(conv.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        conv(x).square().mean().backward()
        assert all(p.grad is not None for p in conv.parameters())
        opt.step()
    assert not torch.allclose(conv.eval()(x), ref, atol=1e-3)


def test_predicate_and_kwargs():
    net = _net()

    def predicate(name, m):
        return m.kernel_size == (3, 3) and name != '0'

    conv = convert_to_odconv(net, kernel_num=2, predicate=predicate,
                             reduction=0.25)
    assert isinstance(conv[0], nn.Conv2d) and isinstance(conv[4], nn.Conv2d)
    assert isinstance(conv[3], ODConv2d) and conv[3].kernel_num == 2
    assert conv[3].attention.fc.out_channels == 16  # min_channel bound
    assert conv is net  # in place, like convert_sync_batchnorm


def test_bare_conv_and_dtype():
    conv = nn.Conv2d(4, 8, 3, padding=1).double().eval()
    new = convert_to_odconv(conv, kernel_num=3)
    assert isinstance(new, ODConv2d) and new.weight.dtype == torch.float64
    assert not new.training
    x = torch.randn(1, 4, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(new(x), conv(x))


def test_same_padding_with_even_kernel_is_left_static():
    net = nn.Sequential(nn.Conv2d(4, 4, 2, padding='same'))
    assert isinstance(convert_to_odconv(net)[0], nn.Conv2d)


@pytest.mark.parametrize('kernel_num', [1, 4])
def test_mmcv_conv_wrapper_is_converted(kernel_num):
    wrappers = pytest.importorskip('mmcv.cnn.bricks.wrappers')
    net = nn.Sequential(wrappers.Conv2d(4, 8, 3, padding=1)).eval()
    x = torch.randn(2, 4, 6, 6)
    ref = net(x)
    conv = convert_to_odconv(net, kernel_num=kernel_num)
    assert isinstance(conv[0], ODConv2d)
    torch.testing.assert_close(conv(x), ref, rtol=1e-5, atol=1e-5)
