"""Official ODConv checkpoints convert and load strictly; bad files fail."""
import os
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope

from mmdet_odconv import ODConv2d
from mmdet_odconv.converters import convert_official_checkpoint
from mmdet_odconv.models import ODResNet
from tools.model_converters.odconv_official_to_mmdet import main as cli


class _OfficialBottleneck(nn.Module):
    """The official od_resnet.py Bottleneck layout (names and shapes)."""
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample, n):
        super().__init__()
        self.conv1 = ODConv2d(inplanes, planes, 1, kernel_num=n)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = ODConv2d(planes, planes, 3, stride, 1, kernel_num=n)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = ODConv2d(planes, planes * 4, 1, kernel_num=n)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample


def official_od_resnet50(n, base=16):
    """OD-ResNet50 with the official module names: conv1, bn1, layerX.Y.*,
    downsample.0/1 and a classifier fc."""
    net = nn.Module()
    net.conv1 = nn.Conv2d(3, base, 7, 2, 3, bias=False)
    net.bn1 = nn.BatchNorm2d(base)
    inplanes = base
    for i, (blocks, stride) in enumerate(zip((3, 4, 6, 3), (1, 2, 2, 2))):
        planes = base * 2**i
        layers = []
        for b in range(blocks):
            s = stride if b == 0 else 1
            ds = None
            if b == 0:
                ds = nn.Sequential(
                    nn.Conv2d(inplanes, planes * 4, 1, s, bias=False),
                    nn.BatchNorm2d(planes * 4))
            layers.append(_OfficialBottleneck(inplanes, planes, s, ds, n))
            inplanes = planes * 4
        setattr(net, f'layer{i + 1}', nn.Sequential(*layers))
    net.fc = nn.Linear(inplanes, 1000)
    return net


def _save_official(net, path):
    """As the official main.py: DataParallel prefix, extra training state."""
    sd = OrderedDict(('module.' + k, v) for k, v in net.state_dict().items())
    torch.save({'epoch': 120, 'arch': 'od_resnet50', 'state_dict': sd,
                'best_acc1': torch.tensor(78.5), 'optimizer': {}}, path)


def test_official_od_resnet50_converts_and_loads_strict(tmp_path):
    torch.manual_seed(0)
    official = official_od_resnet50(n=4)
    with torch.no_grad():
        for p in official.parameters():
            p.normal_()
    src = tmp_path / 'od_resnet50_4x.pth.tar'
    _save_official(official, src)
    target = ODResNet(depth=50, base_channels=16, odconv=dict(kernel_num=4))
    sd = convert_official_checkpoint(str(src), target)
    assert not any(k.startswith(('fc.', 'module.')) for k in sd)
    ref = official.state_dict()
    for k, v in target.state_dict().items():
        assert torch.equal(v, ref[k]), k
    # and the converted backbone computes what the official one does
    target.eval()
    official.eval()
    x = torch.randn(1, 3, 64, 64)
    out = target(x)[0]
    h = torch.relu(official.bn1(official.conv1(x)))
    h = nn.functional.max_pool2d(h, 3, 2, 1)
    for blk in official.layer1:
        idt = h if blk.downsample is None else blk.downsample(h)
        o = torch.relu(blk.bn1(blk.conv1(h)))
        o = torch.relu(blk.bn2(blk.conv2(o)))
        h = torch.relu(blk.bn3(blk.conv3(o)) + idt)
    torch.testing.assert_close(out, h, rtol=1e-4, atol=1e-4)


def test_cli_writes_atomically_and_refuses_bad_files(tmp_path, monkeypatch):
    init_default_scope('mmdet')
    official = official_od_resnet50(n=1, base=64)
    src = tmp_path / 'od_resnet50_1x.pth.tar'
    _save_official(official, src)
    dst = tmp_path / 'out' / 'od_r50_1x_mmdet.pth'
    cfg = 'configs/odconv/faster-rcnn_r50-odconv1x_fpn_1x_coco.py'
    assert cli([str(src), str(dst), '--config', cfg]) == 0
    loaded = torch.load(dst, weights_only=True)
    target = ODResNet(depth=50, odconv=dict(kernel_num=1))
    target.load_state_dict(loaded['state_dict'], strict=True)

    # kernel_num mismatch: clear error, no output file
    dst2 = tmp_path / 'out' / 'wrong.pth'
    with pytest.raises(ValueError, match='kernel_num'):
        cli([str(src), str(dst2), '--config',
             'configs/odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py'])
    assert not dst2.exists()
    # not a checkpoint at all
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='could not be loaded'):
        cli([str(bad), str(dst2), '--config', cfg])
    # a pickled object outside the allow-list is refused
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _Evil()}, evil)
    with pytest.raises(ValueError, match='weights_only'):
        cli([str(evil), str(dst2), '--config', cfg])
    # a failure while writing leaves nothing behind
    monkeypatch.setattr(torch, 'save', _raise)
    with pytest.raises(OSError):
        cli([str(src), str(dst2), '--config', cfg])
    assert sorted(os.listdir(tmp_path / 'out')) == ['od_r50_1x_mmdet.pth']


class _Evil:
    pass


def _raise(*args, **kwargs):
    raise OSError('disk full')


def test_official_od_mobilenetv2_maps_by_order(tmp_path):
    """OD-MobileNetV2's `features.N...` keys map onto our ODMobileNetV2 in
    module order, every shape checked; a widen mismatch fails clearly."""
    from mmdet_odconv.models import ODMobileNetV2
    torch.manual_seed(0)
    ours = ODMobileNetV2(odconv=dict(kernel_num=4))
    sd = ours.state_dict()
    official = OrderedDict()
    for i, (k, v) in enumerate(sd.items()):  # same order, official names
        official[f'module.features.{i}.{k.split(".")[-1]}'] = \
            torch.randn_like(v.float()).to(v.dtype)
    official['module.classifier.1.weight'] = torch.randn(1000, 1280)
    src = tmp_path / 'od_mobilenetv2_4x.pth.tar'
    torch.save({'state_dict': official}, src)
    target = ODMobileNetV2(odconv=dict(kernel_num=4))
    out = convert_official_checkpoint(str(src), target)
    assert list(out) == list(sd)
    for (k, v), ov in zip(out.items(), list(official.values())[:-1]):
        assert torch.equal(v, ov), k
    with pytest.raises(ValueError, match='check kernel_num'):
        convert_official_checkpoint(
            str(src), ODMobileNetV2(odconv=dict(kernel_num=1)))
    with pytest.raises(ValueError, match='does not fit'):
        convert_official_checkpoint(
            str(src), ODMobileNetV2(widen_factor=0.5,
                                    odconv=dict(kernel_num=4)))
