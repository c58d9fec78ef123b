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


def test_odconv_layers_and_their_attention_convs_are_left_alone():
    """The 1x1 convs inside an ODConv's attention are its own: converting
    them would break its forward (a 5-D bank where a linear map is read)."""
    torch.manual_seed(0)
    existing = ODConv2d(8, 16, 3, padding=1, min_channel=4)
    net = nn.Sequential(existing, nn.ReLU(),
                        nn.Conv2d(16, 16, 3, padding=1)).eval()
    x = torch.randn(2, 8, 7, 7)
    ref = net(x)
    convert_to_odconv(net)
    assert net[0] is existing
    assert type(existing.attention.fc) is nn.Conv2d
    assert all(type(m) is nn.Conv2d for m in existing.attention.children()
               if isinstance(m, nn.Conv2d))
    assert sum(isinstance(m, ODConv2d) for m in net.modules()) == 2
    torch.testing.assert_close(net(x), ref, rtol=1e-4, atol=1e-4)


def test_converting_an_odconv_backbone_keeps_its_layers_and_runs():
    """An OD-ResNet: its ODConvs stay as they are (and stay the only
    ODConvs besides the converted stem and shortcuts); the model runs."""
    from mmdet_odconv.models import ODResNet
    torch.manual_seed(0)
    model = ODResNet(depth=18, base_channels=8, out_indices=(3, ))
    model.eval()
    before = [m for m in model.modules() if isinstance(m, ODConv2d)]
    static = [m for m in model.modules() if isinstance(m, nn.Conv2d)
              and not any(m is c for od in before for c in od.modules())]
    x = torch.randn(1, 3, 32, 32)
    ref = model(x)[0]
    convert_to_odconv(model)
    after = [m for m in model.modules() if isinstance(m, ODConv2d)]
    assert len(after) == len(before) + len(static)
    assert all(any(b is a for a in after) for b in before)
    torch.testing.assert_close(model(x)[0], ref, rtol=1e-4, atol=1e-4)


def test_converting_twice_changes_nothing():
    net = _net()
    x = torch.randn(2, 3, 16, 16)
    convert_to_odconv(net)
    modules = list(net.modules())
    state = {k: v.clone() for k, v in net.state_dict().items()}
    out = net(x)
    convert_to_odconv(net)
    assert all(a is b for a, b in zip(net.modules(), modules))
    assert len(list(net.modules())) == len(modules)
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k
    torch.testing.assert_close(net(x), out)


class _TwoBranches(nn.Module):
    """One conv instance registered under two parents (shared weights)."""

    def __init__(self) -> None:
        super().__init__()
        shared = nn.Conv2d(4, 4, 3, padding=1)
        self.left = nn.Sequential(shared, nn.ReLU())
        self.right = nn.Sequential(nn.Identity(), shared)

    def forward(self, x):
        return self.left(x) + self.right(x)


@pytest.mark.parametrize('first_name_only', [False, True])
def test_a_shared_conv_becomes_one_shared_odconv(first_name_only):
    torch.manual_seed(0)
    net = _TwoBranches().eval()
    x = torch.randn(2, 4, 6, 6)
    ref = net(x)
    names = []

    def predicate(name, conv):
        names.append(name)
        return name == 'left.0' or not first_name_only

    convert_to_odconv(net, predicate=predicate)
    assert names == ['left.0']  # judged once, under its first name
    assert isinstance(net.left[0], ODConv2d)
    assert net.left[0] is net.right[1]
    assert sum(isinstance(m, ODConv2d) for m in net.modules()) == 1
    torch.testing.assert_close(net(x), ref, rtol=1e-5, atol=1e-5)


def test_convs_with_tied_weights_are_left_static(monkeypatch):
    """Two modules sharing one weight tensor: two banks would untie it, so
    both stay static and are named."""
    net = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1),
                        nn.Conv2d(4, 4, 3, padding=1),
                        nn.Conv2d(4, 4, 3, padding=1))
    net[1].weight = net[0].weight
    lines = []
    monkeypatch.setattr(convert, 'log', lambda msg, *a: lines.append(msg))
    convert_to_odconv(net)
    assert [type(m) for m in net] == [nn.Conv2d, nn.Conv2d, ODConv2d]
    assert net[1].weight is net[0].weight
    assert '0 (its weight is tied' in lines[0]
    assert '1 (its weight is tied' in lines[0]


def test_children_named_like_wrappers_are_converted():
    """Names mean nothing: a child called ``module`` (as DDP's) and one
    called ``attention`` (as ODConv's) are walked like any other."""
    net = nn.Module()
    net.module = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1))
    net.attention = nn.Conv2d(4, 4, 1)
    net.head = nn.ModuleDict({'weight_': nn.Conv2d(4, 4, 3, padding=1)})
    convert_to_odconv(net)
    assert isinstance(net.module[0], ODConv2d)
    assert isinstance(net.attention, ODConv2d)
    assert isinstance(net.head['weight_'], ODConv2d)
