"""The official ODConv COCO detectors' checkpoints, rebuilt from their layout.

The key names, module order and shapes follow the official code (OSVAI/ODConv
``object_detection/mmdet/models/backbones/{resnet,od_resnet,mobilenetv2,
od_mobilenetv2,odconv}.py``) and MMDetection 2.x's FPN, RPNHead,
Shared2FCBBoxHead and FCNMaskHead. None of it is read off our modules: each
entry also names, independently of the converter, where MMDetection 3 keeps
that tensor (``None``: the ImageNet classifier, dropped), and
:func:`reference_backbone` runs the official forward on the official keys.
"""
import glob
import os.path as osp
from collections import OrderedDict
from types import SimpleNamespace
from typing import List, Optional, Tuple

import pytest
import torch
import torch.nn.functional as F

from tests.reference import naive_odconv

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# (official key, our key or None, shape, kind); kind picks the values
Entry = Tuple[str, Optional[str], Tuple[int, ...], str]
PARAM_KINDS = ('weight', 'bias', 'scale', 'shift')  # the rest are buffers
# t (expansion), c (channels), n (blocks), s (stride): official MobileNetV2
MOBILENET_V2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
RESNET50 = [(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)]
COCO_IDS = [i for i in range(1, 91) if i not in
            (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]  # yapf: disable

# The eight official models (object_detection/README.md of OSVAI/ODConv):
# backbone, kernel_num (0: static), masks, the README's Params (M), and the
# config of ours that holds the model.
OFFICIAL_MODELS = {
    name: dict(backbone=b, kernel_num=n, mask=m, params=p, config=c)
    for name, b, n, m, p, c in [
        ('faster_rcnn_r50_fpn_1x_coco', 'r50', 0, False, 43.80,
         'faster-rcnn_r50_fpn_1x_coco.py'),
        ('faster_rcnn_odconv4x_r50_fpn_1x_coco', 'r50', 4, False, 108.91,
         'faster-rcnn_r50-odconv4x_fpn_1x_coco.py'),
        ('faster_rcnn_mobilenetv2_100_fpn_1x_coco', 'mobilenetv2', 0, False,
         21.13, 'faster-rcnn_mobilenetv2_fpn_1x_coco.py'),
        ('faster_rcnn_odconv4x_mobilenetv2_100_fpn_1x_coco', 'mobilenetv2',
         4, False, 29.14, 'faster-rcnn_mobilenetv2-odconv4x_fpn_1x_coco.py'),
        ('mask_rcnn_r50_fpn_1x_coco', 'r50', 0, True, 46.45,
         'mask-rcnn_r50_fpn_1x_coco.py'),
        ('mask_rcnn_odconv4x_r50_fpn_1x_coco', 'r50', 4, True, 111.56,
         'mask-rcnn_r50-odconv4x_fpn_1x_coco.py'),
        ('mask_rcnn_mobilenetv2_100_fpn_1x_coco', 'mobilenetv2', 0, True,
         23.78, 'mask-rcnn_mobilenetv2_fpn_1x_coco.py'),
        ('mask_rcnn_odconv4x_mobilenetv2_100_fpn_1x_coco', 'mobilenetv2', 4,
         True, 31.80, 'mask-rcnn_mobilenetv2-odconv4x_fpn_1x_coco.py'),
    ]
}  # yapf: disable


BN_BUFFERS = [('weight', 'scale'), ('bias', 'shift'), ('running_mean', 'mean'),
              ('running_var', 'var')]


def _bn(official: str, ours: str, c: int) -> List[Entry]:
    out = [(f'{official}.{n}', f'{ours}.{n}', (c, ), kind)
           for n, kind in BN_BUFFERS]
    n = 'num_batches_tracked'
    return out + [(f'{official}.{n}', f'{ours}.{n}', (), 'count')]


def _with_bias(official: str, ours: Optional[str], shape) -> List[Entry]:
    """A weight and its bias; ``ours`` None for a dropped module."""
    return [(f'{official}.{n}', ours and f'{ours}.{n}', s, kind)
            for n, s, kind in (('weight', tuple(shape), 'weight'),
                               ('bias', (shape[0], ), 'bias'))]


def _same(name: str, shape) -> List[Entry]:
    """Neck and head tensors: MMDetection 3 keeps the 2.x names."""
    return _with_bias(name, name, shape)


def _conv(official: str,
          ours: str,
          cin: int,
          cout: int,
          k: int,
          groups: int = 1,
          n: int = 0) -> List[Entry]:
    """A bias-free nn.Conv2d (n=0) or the official ODConv2d with n kernels:
    ``weight`` (its own parameter comes first), then ``attention.`` fc, bn,
    channel_fc, filter_fc (not for depthwise), spatial_fc (not for 1x1),
    kernel_fc (not for one kernel), squeeze width max(C_in / 16, 16)."""
    shape = (cout, cin // groups, k, k)
    if not n:
        return [(f'{official}.weight', f'{ours}.weight', shape, 'weight')]
    width = max(int(cin * 0.0625), 16)
    a, b = f'{official}.attention', f'{ours}.attention'
    out = [(f'{official}.weight', f'{ours}.weight', (n, ) + shape, 'weight'),
           (f'{a}.fc.weight', f'{b}.fc.weight', (width, cin, 1, 1), 'weight')]
    out += _bn(f'{a}.bn', f'{b}.bn', width)
    heads = [('channel_fc', cin)]
    if not cin == groups == cout:
        heads.append(('filter_fc', cout))
    if k > 1:
        heads.append(('spatial_fc', k * k))
    if n > 1:
        heads.append(('kernel_fc', n))
    for name, c in heads:
        out += _with_bias(f'{a}.{name}', f'{b}.{name}', (c, width, 1, 1))
    return out


def resnet50(n: int) -> List[Entry]:
    """Official ``ResNet``/``OD_ResNet`` (depth 50, n kernels) with ``fc``;
    MMDetection's ResNet uses the same names."""
    out = _conv('conv1', 'conv1', 3, 64, 7) + _bn('bn1', 'bn1', 64)
    cin = 64
    for i, (blocks, planes, _) in enumerate(RESNET50):
        for b in range(blocks):
            p = f'layer{i + 1}.{b}'
            convs = [(cin, planes, 1), (planes, planes, 3),
                     (planes, planes * 4, 1)]
            for j, (ci, co, k) in enumerate(convs, 1):
                out += _conv(f'{p}.conv{j}', f'{p}.conv{j}', ci, co, k, n=n)
                out += _bn(f'{p}.bn{j}', f'{p}.bn{j}', co)
            if b == 0:
                d = f'{p}.downsample'
                out += _conv(f'{d}.0', f'{d}.0', cin, planes * 4, 1)
                out += _bn(f'{d}.1', f'{d}.1', planes * 4)
            cin = planes * 4
    return out + _with_bias('fc', None, (1000, 2048))


def mobilenet_v2(n: int) -> List[Entry]:
    """Official ``MobileNetV2``/``OD_MobileNetV2`` (1.0x, n kernels) with
    ``classifier``; every conv but the stem is ODConv in the OD variant."""
    out = _conv('features.0.0', 'conv1.conv', 3, 32, 3)
    out += _bn('features.0.1', 'conv1.bn', 32)
    cin, i = 32, 1
    for stage, (t, c, blocks, _) in enumerate(MOBILENET_V2):
        for b in range(blocks):
            p, q = f'features.{i}.conv', f'layer{stage + 1}.{b}'
            hidden, j = cin * t, 0
            if t != 1:
                e = f'{q}.expand_conv'
                out += _conv(f'{p}.0.0', f'{e}.conv', cin, hidden, 1, n=n)
                out += _bn(f'{p}.0.1', f'{e}.bn', hidden)
                j = 1
            d, li = f'{q}.depthwise_conv', f'{q}.linear_conv'
            out += _conv(
                f'{p}.{j}.0',
                f'{d}.conv',
                hidden,
                hidden,
                3,
                groups=hidden,
                n=n)
            out += _bn(f'{p}.{j}.1', f'{d}.bn', hidden)
            out += _conv(f'{p}.{j + 1}', f'{li}.conv', hidden, c, 1, n=n)
            out += _bn(f'{p}.{j + 2}', f'{li}.bn', c)
            cin, i = c, i + 1
    out += _conv(f'features.{i}.0', 'conv2.conv', 320, 1280, 1, n=n)
    out += _bn(f'features.{i}.1', 'conv2.bn', 1280)
    return out + _with_bias('classifier.1', None, (1000, 1280))


def neck_and_heads(in_channels, mask: bool) -> List[Entry]:
    """MMDetection 2.x FPN, RPNHead (3 anchors), Shared2FCBBoxHead and
    FCNMaskHead (upsample: a ConvTranspose2d, weight (in, out, 2, 2)) for
    COCO's 80 classes."""
    out = []
    for i, c in enumerate(in_channels):
        out += _same(f'neck.lateral_convs.{i}.conv', (256, c, 1, 1))
    for i in range(len(in_channels)):
        out += _same(f'neck.fpn_convs.{i}.conv', (256, 256, 3, 3))
    out += _same('rpn_head.rpn_conv', (256, 256, 3, 3))
    out += _same('rpn_head.rpn_cls', (3, 256, 1, 1))
    out += _same('rpn_head.rpn_reg', (12, 256, 1, 1))
    bbox = 'roi_head.bbox_head'
    out += _same(f'{bbox}.shared_fcs.0', (1024, 256 * 7 * 7))
    out += _same(f'{bbox}.shared_fcs.1', (1024, 1024))
    out += _same(f'{bbox}.fc_cls', (81, 1024))
    out += _same(f'{bbox}.fc_reg', (320, 1024))
    if mask:
        m = 'roi_head.mask_head'
        for i in range(4):
            out += _same(f'{m}.convs.{i}.conv', (256, 256, 3, 3))
        out += _same(f'{m}.upsample', (256, 256, 2, 2))
        out += _same(f'{m}.conv_logits', (80, 256, 1, 1))
    return out


def detector(name: str) -> List[Entry]:
    """Every tensor of one official COCO detector, in checkpoint order."""
    m = OFFICIAL_MODELS[name]
    if m['backbone'] == 'r50':
        backbone = resnet50(m['kernel_num'])
        in_channels = (256, 512, 1024, 2048)
    else:
        backbone = mobilenet_v2(m['kernel_num'])
        in_channels = (24, 32, 96, 1280)
    backbone = [('backbone.' + k, ours and 'backbone.' + ours, s, kind)
                for k, ours, s, kind in backbone]
    return backbone + neck_and_heads(in_channels, m['mask'])


def num_params(entries: List[Entry], kept_only: bool = False) -> int:
    return sum(
        torch.Size(s).numel() for _, ours, s, kind in entries
        if kind in PARAM_KINDS and (ours is not None or not kept_only))


def random_state(entries: List[Entry],
                 seed: int = 0) -> 'OrderedDict[str, torch.Tensor]':
    """Values that keep a deep random network's activations finite."""
    g = torch.Generator().manual_seed(seed)
    out = OrderedDict()
    for key, _, shape, kind in entries:
        if kind == 'count':
            out[key] = torch.tensor(1000)
        elif kind == 'weight':  # a kernel bank is (n, out, in, k, k)
            fan_in = torch.Size(shape[-3:] if len(shape) == 5 else shape[1:])
            out[key] = torch.randn(shape, generator=g) / fan_in.numel()**0.5
        elif kind in ('scale', 'var'):
            out[key] = 0.75 + 0.5 * torch.rand(shape, generator=g)
        else:  # bias, shift, mean
            out[key] = 0.1 * torch.randn(shape, generator=g)
    return out


def mmdet2_checkpoint(state: dict, classes) -> dict:
    """As MMDetection 2.x's ``save_checkpoint`` writes it."""
    return dict(
        meta=dict(
            mmdet_version='2.25.1',
            CLASSES=tuple(classes),
            epoch=12,
            iter=87960,
            config='model = dict(...)'),
        state_dict=state,
        optimizer=dict(state={}, param_groups=[dict(lr=0.0002, params=[])]))


# ------------------------------------------------ official forward (eval)
def _conv_ref(sd, p, x, stride=1, padding=0, groups=1):
    if f'{p}.attention.fc.weight' not in sd:
        return F.conv2d(x, sd[f'{p}.weight'], None, stride, padding, 1, groups)

    def fc(name):
        return SimpleNamespace(
            weight=sd[f'{p}.attention.{name}.weight'],
            bias=sd.get(f'{p}.attention.{name}.bias'))

    bn = SimpleNamespace(
        eps=1e-5,
        **{
            n: sd[f'{p}.attention.bn.{n}']
            for n in ('weight', 'bias', 'running_mean', 'running_var')
        })
    att = SimpleNamespace(temperature=1.0, fc=fc('fc'), bn=bn)
    for name in ('channel_fc', 'filter_fc', 'spatial_fc', 'kernel_fc'):
        if f'{p}.attention.{name}.weight' in sd:
            setattr(att, name, fc(name))
    weight = sd[f'{p}.weight']
    layer = SimpleNamespace(
        weight=weight,
        in_channels=weight.shape[2] * groups,
        attention=att,
        stride=(stride, stride),
        padding=(padding, padding),
        dilation=(1, 1),
        groups=groups,
        bias=None)
    return naive_odconv(layer, x, training=False)


def _bn_ref(sd, p, x):
    return F.batch_norm(x, sd[f'{p}.running_mean'], sd[f'{p}.running_var'],
                        sd[f'{p}.weight'], sd[f'{p}.bias'], False, 0., 1e-5)


def reference_backbone(sd, kind: str, x: torch.Tensor) -> List[torch.Tensor]:
    """The official backbone's detection outputs from official keys
    (without the ``backbone.`` prefix): ResNet stages 1-4, MobileNetV2
    ``features`` 3, 6, 13, 18 (its ``out_indices=(1, 2, 3, 4)``)."""
    conv = _conv_ref
    outs = []
    if kind == 'r50':
        x = F.relu(_bn_ref(sd, 'bn1', conv(sd, 'conv1', x, 2, 3)))
        x = F.max_pool2d(x, 3, 2, 1)
        for i, (blocks, _, stride) in enumerate(RESNET50):
            for b in range(blocks):
                p, s = f'layer{i + 1}.{b}', stride if b == 0 else 1
                y = F.relu(_bn_ref(sd, f'{p}.bn1', conv(sd, f'{p}.conv1', x)))
                y = F.relu(
                    _bn_ref(sd, f'{p}.bn2', conv(sd, f'{p}.conv2', y, s, 1)))
                y = _bn_ref(sd, f'{p}.bn3', conv(sd, f'{p}.conv3', y))
                if b == 0:
                    x = _bn_ref(sd, f'{p}.downsample.1',
                                conv(sd, f'{p}.downsample.0', x, s))
                x = F.relu(y + x)
            outs.append(x)
        return outs
    x = F.relu6(_bn_ref(sd, 'features.0.1', conv(sd, 'features.0.0', x, 2, 1)))
    i, cin = 1, 32
    for t, c, blocks, stride in MOBILENET_V2:
        for b in range(blocks):
            p, s, y, j = f'features.{i}.conv', stride if b == 0 else 1, x, 0
            if t != 1:
                y = F.relu6(_bn_ref(sd, f'{p}.0.1', conv(sd, f'{p}.0.0', y)))
                j = 1
            y = F.relu6(
                _bn_ref(sd, f'{p}.{j}.1',
                        conv(sd, f'{p}.{j}.0', y, s, 1, groups=y.size(1))))
            y = _bn_ref(sd, f'{p}.{j + 2}', conv(sd, f'{p}.{j + 1}', y))
            x = x + y if s == 1 and cin == c else y
            if i in (3, 6, 13):
                outs.append(x)
            i, cin = i + 1, c
    x = F.relu6(_bn_ref(sd, f'features.{i}.1', conv(sd, f'features.{i}.0', x)))
    return outs + [x]


@pytest.mark.parametrize('name', list(OFFICIAL_MODELS))
def test_layout_has_the_published_parameter_count(name):
    """The rebuilt detectors have the official README's Params: to its two
    decimals for six of them; Faster R-CNN OD-R50 4x counts 108.916 M
    (printed 108.91) and Mask R-CNN OD-MobileNetV2 4x 31.784 M (printed
    31.80), while their backbones alone match the published ImageNet
    counts (90.67 M, 11.51 M) and their heads the other rows'."""
    count = num_params(detector(name)) / 1e6
    assert abs(count - OFFICIAL_MODELS[name]['params']) < 0.02
    backbone = [e for e in detector(name) if e[0].startswith('backbone.')]
    published_backbone = {('r50', 0): 25.56, ('r50', 4): 90.67,
                          ('mobilenetv2', 0): 3.50,
                          ('mobilenetv2', 4): 11.51}  # yapf: disable
    m = OFFICIAL_MODELS[name]
    assert round(num_params(backbone) / 1e6,
                 2) == published_backbone[m['backbone'], m['kernel_num']]


def test_metafile_lists_every_config_and_the_official_weights():
    """model-index.yml imports the metafile; every config in configs/odconv
    has an entry; the eight official detectors have their results and the
    download page of their checkpoint; nothing claims a measurement."""
    import yaml
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        assert yaml.safe_load(f) == {'Import': ['configs/odconv/metafile.yml']}
    with open(osp.join(ROOT, 'configs/odconv/metafile.yml')) as f:
        meta = yaml.safe_load(f)
    assert [c['Name'] for c in meta['Collections']] == ['ODConv']
    configs = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'configs/odconv/*.py')))
    assert sorted(m['Config'] for m in meta['Models']) == configs
    for m in meta['Models']:
        assert m['Config'] == f'configs/odconv/{m["Name"]}.py'
        assert m['In Collection'] == 'ODConv'
        assert set(m['Metadata']) == {'Epochs'}  # no memory, no timing
    official = {m['Config']: m for m in meta['Models'] if 'Weights' in m}
    assert set(official) == {
        f'configs/odconv/{m["config"]}'
        for m in OFFICIAL_MODELS.values()
    }
    for name, m in OFFICIAL_MODELS.items():
        entry = official[f'configs/odconv/{m["config"]}']
        assert entry['Converted From']['Code'].endswith(f'/{name}.py')
        assert entry['Weights'] == entry['Converted From']['Weights']
        assert entry['Weights'].startswith('https://drive.google.com/file/d/')
        assert [
            r['Task'] for r in entry['Results']
        ] == ['Object Detection'] + ['Instance Segmentation'] * m['mask']
