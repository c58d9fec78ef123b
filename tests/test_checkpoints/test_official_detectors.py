"""The eight official COCO detectors convert to our configs, tensor for
tensor, and compute what the official weights compute."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmdet_odconv.models  # noqa: F401
from mmdet_odconv.checkpoints import convert_detector
from tests.test_checkpoints.test_official_layout import (
    OFFICIAL_MODELS, detector, mmdet2_checkpoint, num_params, random_state,
    reference_backbone)
from tools.model_converters.odconv_official_to_mmdet import main as cli

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def build(name):
    """Our detector from the config that holds official model ``name``,
    with 20 proposals per image (the mask head's cost) instead of 1000."""
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/odconv', OFFICIAL_MODELS[name]['config']))
    cfg.model.test_cfg.rpn.max_per_img = 20
    return MODELS.build(cfg.model)


def _inputs(model, mask):
    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(
        1, [[3, 64, 64]], num_items=[2], num_classes=80, with_mask=mask)
    return model.data_preprocessor(packed, False)


def _outputs(model, data):
    """Raw head outputs and final predictions of ``model`` in eval mode."""
    model.eval()
    with torch.no_grad():
        raw = model(data['inputs'], data['data_samples'], mode='tensor')
        preds = model(data['inputs'], data['data_samples'], mode='predict')
    inst = preds[0].pred_instances
    return list(raw) + [inst.bboxes, inst.scores, inst.labels]


@pytest.mark.parametrize('name', list(OFFICIAL_MODELS))
def test_official_detector_converts_as_placed_by_hand(name):
    """Converted = the official tensors placed at the keys this test names
    itself; the backbone computes the official forward (written from the
    official code) and the detector's outputs equal the hand-placed ones."""
    torch.manual_seed(0)
    entries = detector(name)
    official = random_state(entries)
    by_hand = {ours: official[key] for key, ours, _, _ in entries if ours}
    model = build(name)
    # the config builds exactly the official detector, minus its classifier
    assert sum(p.numel() for p in model.parameters()) == num_params(
        entries, kept_only=True)
    model.load_state_dict(by_hand, strict=True)
    data = _inputs(model, OFFICIAL_MODELS[name]['mask'])
    expected = _outputs(model, data)

    converted = convert_detector(official, build(name), name)
    assert converted.keys() == by_hand.keys()
    for k, v in converted.items():
        assert v is by_hand[k] or torch.equal(v, by_hand[k]), k
    model.load_state_dict(converted, strict=True)
    for got, want in zip(_outputs(model, data), expected):
        torch.testing.assert_close(got, want, rtol=0, atol=0)

    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = model.backbone(x)
    ref = reference_backbone(
        {
            k[len('backbone.'):]: v
            for k, v in official.items() if k.startswith('backbone.')
        }, OFFICIAL_MODELS[name]['backbone'], x)
    assert len(feats) == len(ref) == 4
    for got, want in zip(feats, ref):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def _official_file(tmp_path, name, state=None):
    from mmdet.datasets import CocoDataset
    state = state if state is not None else random_state(detector(name))
    path = tmp_path / f'{name}.pth'
    torch.save(mmdet2_checkpoint(state, CocoDataset.METAINFO['classes']), path)
    return str(path)


def test_cli_writes_an_mmdet3_checkpoint(tmp_path):
    from mmdet.datasets import CocoDataset
    name = 'mask_rcnn_odconv4x_mobilenetv2_100_fpn_1x_coco'
    src = _official_file(tmp_path, name)
    dst = tmp_path / 'out' / 'mask-rcnn_odmbv2.pth'
    config = osp.join('configs/odconv', OFFICIAL_MODELS[name]['config'])
    assert cli([src, str(dst), '--config', config]) == 0
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    meta = ckpt['meta']['dataset_meta']
    assert meta['classes'] == CocoDataset.METAINFO['classes']
    assert len(meta['classes']) == 80
    assert meta['palette'] == list(CocoDataset.METAINFO['palette'])
    assert ckpt['meta']['source_mmdet_version'] == '2.25.1'
    model = build(name)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    assert not any(
        k.startswith('backbone.classifier') for k in ckpt['state_dict'])


def _convert(name, state):
    return convert_detector(state, build(name), 'official.pth')


@pytest.mark.parametrize('change, key', [
    ('missing', 'roi_head.bbox_head.fc_cls.bias'),
    ('missing', 'backbone.features.5.conv.1.1.running_var'),
    ('extra', 'neck.extra_convs.0.conv.weight'),
    ('shape', 'rpn_head.rpn_cls.weight'),
    ('shape', 'backbone.features.18.0.weight'),
])
def test_a_tensor_missing_extra_or_misshapen_is_named(change, key):
    name = 'faster_rcnn_mobilenetv2_100_fpn_1x_coco'
    state = random_state(detector(name))
    if change == 'missing':
        del state[key]
    elif change == 'extra':
        state[key] = torch.zeros(256, 256, 3, 3)
    else:
        state[key] = torch.zeros(2, *state[key].shape[1:])
    ours = key.replace('features.5.conv.1.1', 'layer3.1.depthwise_conv.bn')
    ours = ours.replace('features.18.0', 'conv2.conv')
    what = {
        'missing': 'keys of the model missing from the checkpoint',
        'extra': 'keys in the checkpoint that the model does not have',
        'shape': 'tensors of another shape'
    }[change]
    with pytest.raises(ValueError) as e:
        _convert(name, state)
    assert what in str(e.value) and f'    {ours}' in str(e.value)


def test_wrong_config_says_which_one_to_use():
    state = random_state(detector('faster_rcnn_mobilenetv2_100_fpn_1x_coco'))
    with pytest.raises(ValueError, match='static config of this detector'):
        _convert('faster_rcnn_odconv4x_mobilenetv2_100_fpn_1x_coco', state)
    od_state = random_state(
        detector('faster_rcnn_odconv4x_mobilenetv2_100_fpn_1x_coco'))
    with pytest.raises(ValueError, match='ODConv config of this model'):
        _convert('faster_rcnn_mobilenetv2_100_fpn_1x_coco', od_state)
    with pytest.raises(ValueError, match='MobileNetV2 .* builds a ResNet'):
        _convert('faster_rcnn_r50_fpn_1x_coco', state)
