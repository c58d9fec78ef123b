"""ODConv in MMDetection backbones: both placements, init, freezing."""
import pytest
import torch
import torch.nn as nn
from mmdet.models.backbones import MobileNetV2, ResNet
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

from mmdet_odconv import ODConv2d
from mmdet_odconv.models import ODMobileNetV2, ODResNet, ODResNeXt


@pytest.fixture(autouse=True)
def _mmdet_scope():
    """MMDetection's registry scope for every test (a Runner built by an
    earlier test leaves its own scope current)."""
    init_default_scope('mmdet')


def _odconvs(model):
    return {n: m for n, m in model.named_modules() if isinstance(m, ODConv2d)}


def _static_convs(model):
    return {n: m for n, m in model.named_modules()
            if type(m) is nn.Conv2d and '.attention.' not in f'.{n}.'}


def _odconv_params(c_in, c_out, k, groups, n, reduction=0.0625, min_ch=16):
    """Parameters of one ODConv, from the layer's definition."""
    width = max(int(c_in * reduction), min_ch)
    p = n * c_out * (c_in // groups) * k * k  # kernel bank
    p += c_in * width + 2 * width  # squeeze FC + BN
    p += width * c_in + c_in  # channel head
    if not (c_in == groups == c_out):
        p += width * c_out + c_out
    if k > 1:
        p += width * k * k + k * k
    if n > 1:
        p += width * n + n
    return p


def _train_step(model, x):
    model.train()
    outs = model(x)
    sum(o.mean() for o in outs).backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, name
    return outs


@pytest.mark.parametrize('backbone', [
    dict(type='ResNet', depth=18),
    dict(type='ResNet', depth=50),
    dict(type='ResNeXt', depth=50, groups=4, base_width=4),
    dict(type='MobileNetV2', out_indices=(1, 2, 4, 7)),
])
def test_conv_cfg_turns_every_conv_into_odconv(backbone):
    cfg = dict(backbone, conv_cfg=dict(type='ODConv', kernel_num=4),
               init_cfg=None)
    if 'ResNe' in cfg['type']:
        cfg['base_channels'] = 16 if cfg['type'] == 'ResNet' else 64
    model = MODELS.build(cfg)
    model.init_weights()
    assert _odconvs(model) and not _static_convs(model)
    x = torch.randn(2, 3, 64, 64)
    outs = _train_step(model, x)
    static = MODELS.build(dict(cfg, conv_cfg=None))
    for a, b in zip(outs, static(x)):
        assert a.shape == b.shape


def test_paper_placement_resnet50():
    model = ODResNet(depth=50, base_channels=16, odconv=dict(kernel_num=4))
    model.init_weights()
    od = _odconvs(model)
    static = _static_convs(model)
    # 16 bottlenecks x (conv1, conv2, conv3)
    assert len(od) == 48
    assert all(n.split('.')[-1] in ('conv1', 'conv2', 'conv3') for n in od)
    assert set(static) == {'conv1'} | {
        f'layer{i}.0.downsample.0'
        for i in range(1, 5)
    }
    _train_step(model, torch.randn(2, 3, 64, 64))


def test_paper_placement_parameter_count_from_formula():
    base = ResNet(depth=18, base_channels=16)
    od = ODResNet(depth=18, base_channels=16, odconv=dict(kernel_num=4))
    expected = sum(p.numel() for p in base.parameters())
    for name, m in _odconvs(od).items():
        conv = dict(base.named_modules())[name]
        expected -= conv.weight.numel()
        expected += _odconv_params(conv.in_channels, conv.out_channels,
                                   conv.kernel_size[0], conv.groups, 4)
    assert sum(p.numel() for p in od.parameters()) == expected


def test_stage_with_odconv_and_basicblock():
    model = ODResNet(depth=18, base_channels=16,
                     stage_with_odconv=(False, True, False, True))
    od = _odconvs(model)
    assert {n.split('.')[0] for n in od} == {'layer2', 'layer4'}
    assert len(od) == 2 * 2 * 2  # 2 stages x 2 BasicBlocks x 2 convs
    with pytest.raises(ValueError, match='one bool per stage'):
        ODResNet(depth=18, stage_with_odconv=(True, ))
    with pytest.raises(TypeError, match='odconv must be a dict'):
        ODResNet(depth=18, odconv=4)


def test_odresnext_and_odmobilenetv2_placement():
    rx = ODResNeXt(depth=50, groups=4, base_width=4,
                   odconv=dict(kernel_num=2))
    assert len(_odconvs(rx)) == 48
    assert rx.layer1[0].conv2.groups == 4
    assert isinstance(rx.layer1[0].conv2, ODConv2d)
    mb = ODMobileNetV2(odconv=dict(kernel_num=4), out_indices=(1, 2, 4, 7))
    assert type(mb.conv1.conv) is nn.Conv2d
    assert isinstance(mb.conv2.conv, ODConv2d)
    n_convs = len(_odconvs(MobileNetV2(conv_cfg=dict(type='ODConv'))))
    assert len(_odconvs(mb)) == n_convs - 1
    outs = _train_step(mb, torch.randn(2, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [24, 32, 96, 1280]


def test_resnet_default_init_keeps_odconv_init():
    """ResNet's Kaiming(layer='Conv2d') init_cfg must not flatten the bank;
    our per-kernel init must run after it."""
    torch.manual_seed(0)
    model = ResNet(depth=50, base_channels=16,
                   conv_cfg=dict(type='ODConv', kernel_num=4))
    for m in model.modules():  # poison, so we see init_weights run
        if isinstance(m, ODConv2d):
            m.weight.data.fill_(7.0)
    model.init_weights()
    conv = model.layer3[0].conv2  # 64 -> 64 3x3
    std = (2.0 / (conv.out_channels * 9))**0.5
    for i in range(4):
        assert abs(conv.weight[i].std().item() / std - 1) < 0.1
    assert not torch.equal(conv.weight[0], conv.weight[1])


def test_norm_eval_and_frozen_stages_cover_attention():
    model = ODResNet(depth=18, base_channels=16, norm_eval=True,
                     frozen_stages=1)
    model.train()
    att_bn = model.layer2[0].conv1.attention.bn
    assert not att_bn.training  # norm_eval reaches the attention BN
    for p in model.layer1.parameters():
        assert not p.requires_grad
    assert model.layer2[0].conv1.weight.requires_grad


def test_torchvision_style_checkpoint_inflates_into_odresnet(tmp_path):
    """A static ResNet checkpoint loads through init_cfg=Pretrained: every
    bank kernel equals the static kernel and a strict load reports only the
    attention keys as missing."""
    static = ResNet(depth=18, base_channels=16)
    static.init_weights()
    ckpt = tmp_path / 'r18.pth'
    torch.save({'state_dict': static.state_dict()}, ckpt)
    od = ODResNet(depth=18, base_channels=16, odconv=dict(kernel_num=4),
                  init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)))
    od.init_weights()
    s_mods = dict(static.named_modules())
    for name, m in _odconvs(od).items():
        scale = 2**len(m.attention.sigmoid_heads)
        for i in range(4):
            torch.testing.assert_close(m.weight[i],
                                       s_mods[name].weight * scale)
    # the inflated network is the pretrained network (eval, and frozen)
    static.eval()
    od.eval()
    x = torch.randn(2, 3, 64, 64)
    for a, b in zip(static(x), od(x)):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    assert torch.equal(od.conv1.weight, static.conv1.weight)
    assert torch.equal(od.layer2[0].downsample[0].weight,
                       static.layer2[0].downsample[0].weight)
    missing, unexpected = od.load_state_dict(static.state_dict(),
                                             strict=False)
    assert unexpected == []
    assert missing and all('.attention.' in k for k in missing)


def test_dcn_and_odconv_in_one_stage_is_refused_and_split_stages_work():
    dcn = dict(type='DCNv2', deform_groups=1, fallback_on_stride=False)
    with pytest.raises(ValueError, match=r'stage_with_odconv\[3\]=False'):
        ODResNet(depth=50, dcn=dcn,
                 stage_with_dcn=(False, False, False, True))
    model = ODResNet(depth=50, base_channels=8, dcn=dcn,
                     stage_with_dcn=(False, False, False, True),
                     stage_with_odconv=(True, True, True, False))
    assert type(model.layer4[0].conv2).__name__ == 'ModulatedDeformConv2dPack'
    assert isinstance(model.layer3[0].conv2, ODConv2d)
