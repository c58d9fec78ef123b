"""ODConv in the CSP backbones and necks of RTMDet and YOLOX, and in FPN.

Placement and checkpoint loading are checked against MMDetection's own
static modules built with the same arguments.
"""
import pytest
import torch
import torch.nn as nn
from mmdet.models.backbones import CSPDarknet, CSPNeXt
from mmdet.models.necks import FPN, CSPNeXtPAFPN
from mmengine.registry import init_default_scope

from mmdet_odconv import ODConv2d
from mmdet_odconv.models import (ODFPN, ODCSPDarknet, ODCSPNeXt,
                                 ODCSPNeXtPAFPN)

init_default_scope('mmdet')

TINY = dict(deepen_factor=0.167, widen_factor=0.25)
CASES = {
    'cspnext': (CSPNeXt, ODCSPNeXt, TINY),
    'cspnext-p6-dw':
    (CSPNeXt, ODCSPNeXt,
     dict(TINY, arch='P6', use_depthwise=True, out_indices=(2, 3, 4, 5))),
    'cspdarknet': (CSPDarknet, ODCSPDarknet, TINY),
    'cspnext-pafpn':
    (CSPNeXtPAFPN, ODCSPNeXtPAFPN,
     dict(in_channels=[32, 64, 128], out_channels=32, num_csp_blocks=1)),
    'fpn': (FPN, ODFPN,
            dict(
                in_channels=[32, 64, 128],
                out_channels=32,
                num_outs=5,
                add_extra_convs='on_input')),
}


def _is_static(name):
    """Where the paper's placement keeps a static conv."""
    return (name.startswith('stem.') or '.short_conv.' in name
            or name.endswith('attention.fc'))


def _convs(model):
    return {
        n: m
        for n, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, ODConv2d)) and '.conv.attention.' not in n
    }


def _inputs(name, batch=2):
    if 'fpn' in name:
        return [
            torch.randn(batch, c, s, s)
            for c, s in zip(CASES[name][2]['in_channels'], (16, 8, 4))
        ]
    return torch.randn(batch, 3, 64, 64)


def _forward(model, name, x):
    return model(tuple(x) if 'fpn' in name else x)


@pytest.mark.parametrize('name', list(CASES))
def test_placement_matches_the_static_module(name):
    """Every conv of MMDetection's module is there with its geometry; the
    stem, the CSP short convs and the channel attention stay static."""
    static_cls, od_cls, kwargs = CASES[name]
    static = _convs(static_cls(**kwargs))
    od = _convs(od_cls(odconv=dict(kernel_num=2), **kwargs))
    assert set(od) == set(static)
    n_static = 0
    for n, conv in static.items():
        if _is_static(n):
            assert type(od[n]) is nn.Conv2d, n
            n_static += 1
            continue
        assert isinstance(od[n], ODConv2d), n
        assert od[n].kernel_num == 2
        for attr in ('in_channels', 'out_channels', 'kernel_size', 'stride',
                     'padding', 'dilation', 'groups'):
            assert getattr(od[n], attr) == getattr(conv, attr), (n, attr)
        assert (od[n].bias is None) == (conv.bias is None), n
    if name == 'fpn':
        assert n_static == 0
    else:  # each CSP layer keeps its short conv
        assert sum('.short_conv.' in n for n in od) >= 2


@pytest.mark.parametrize('name', list(CASES))
def test_every_parameter_learns(name):
    static_cls, od_cls, kwargs = CASES[name]
    model = od_cls(odconv=dict(kernel_num=4), **kwargs)
    model.init_weights()
    model.train()
    outs = _forward(model, name, _inputs(name))
    sum(o.mean() for o in outs).backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert not no_grad
    with torch.no_grad():
        static = static_cls(**kwargs)
        static.eval()  # CSPNeXt.train returns None
        model.eval()
        x = _inputs(name, batch=1)
        assert [o.shape for o in _forward(model, name, x)] == \
            [o.shape for o in _forward(static, name, x)]


@pytest.mark.parametrize('name', list(CASES))
def test_parent_init_cfg_keeps_odconv_init(name):
    """CSPNeXt/CSPDarknet/PAFPN (Kaiming) and FPN (Xavier) initialise every
    ``Conv2d``, which includes ODConv's attention heads; ConvModule never
    calls ODConv's own init_weights afterwards, so the subclasses do.
    ODConv2d initialises the squeeze FC Kaiming-normal with fan_out."""
    static_cls, od_cls, kwargs = CASES[name]
    model = od_cls(odconv=dict(kernel_num=4), **kwargs)
    assert model.init_cfg and model.init_cfg['type'] in ('Kaiming', 'Xavier')
    model.init_weights()
    ratios = []
    for m in model.modules():
        if isinstance(m, ODConv2d):
            fc = m.attention.fc.weight
            ratios.append(fc.std().item() / (2.0 / fc.shape[0])**0.5)
    ratios = torch.tensor(ratios)
    assert len(ratios) > 5
    assert 0.85 < ratios.mean() < 1.15, ratios


@pytest.mark.parametrize('name', ['cspnext', 'cspnext-p6-dw', 'cspdarknet'])
def test_static_checkpoint_loads_as_the_static_backbone(name, tmp_path):
    """RTMDet's configs start OD-CSPNeXt from the static CSPNeXt ImageNet
    checkpoint (init_cfg Pretrained with prefix 'backbone.'): it must load
    into the bank so that the network computes what the static one did."""
    static_cls, od_cls, kwargs = CASES[name]
    static = static_cls(**kwargs)
    static.init_weights()
    with torch.no_grad():  # non-trivial BN statistics
        for m in static.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
    ckpt = tmp_path / 'static.pth'
    torch.save(
        {
            'state_dict': {
                f'backbone.{k}': v
                for k, v in static.state_dict().items()
            }
        }, ckpt)
    od = od_cls(
        odconv=dict(kernel_num=4),
        init_cfg=dict(
            type='Pretrained', prefix='backbone.', checkpoint=str(ckpt)),
        **kwargs)
    od.init_weights()
    static.eval()
    od.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(static(x), od(x)):
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_stage_with_odconv_and_frozen_stages():
    model = ODCSPNeXt(
        stage_with_odconv=(False, True, False, True), frozen_stages=2, **TINY)
    has_od = [
        any(
            isinstance(m, ODConv2d)
            for m in getattr(model, f'stage{i}').modules())
        for i in range(1, 5)
    ]
    assert has_od == [False, True, False, True]
    model.train()
    for name, p in model.named_parameters():  # stem, stage1, stage2 frozen
        frozen = name.split('.')[0] in ('stem', 'stage1', 'stage2')
        assert p.requires_grad != frozen, name
    assert not model.stage2[1].main_conv.conv.attention.bn.training
    with pytest.raises(ValueError, match='one bool per stage'):
        ODCSPDarknet(stage_with_odconv=(True, True), **TINY)
    with pytest.raises(ValueError, match='one bool per stage'):
        ODCSPNeXt(arch='P6', stage_with_odconv=(True, ) * 4, **TINY)


def test_odfpn_takes_odconv_not_conv_cfg():
    with pytest.raises(ValueError, match='odconv=dict'):
        ODFPN(
            in_channels=[8, 16],
            out_channels=8,
            num_outs=2,
            conv_cfg=dict(type='ODConv'))
    with pytest.raises(TypeError, match='odconv must be a dict'):
        ODCSPNeXt(odconv=4, **TINY)
