"""Every config builds; each detector family runs loss and predict."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmdet_odconv  # noqa: F401
from mmdet_odconv import ODConv2d

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# configs/pretrain are MMPretrain's (tests/test_pretraining, torch 2.1 stack)
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
    if osp.basename(osp.dirname(p)) != 'pretrain')


def _build(path):
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    cfg = Config.fromfile(path)
    cfg.model.backbone.pop('init_cfg', None)  # no weights offline
    return cfg, MODELS.build(cfg.model)


def _n_odconv(model):
    return sum(isinstance(m, ODConv2d) for m in model.modules())


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.basename(p))
def test_config_builds(path):
    cfg, model = _build(path)
    name = osp.basename(path)
    if 'odconv' in name:
        assert _n_odconv(model) > 0
        # the demo configs also register the workbench's hooks
        assert cfg.custom_imports.imports == ['mmdet_odconv'] + (
            ['mmdet_odconv.workbench'] if 'demo' in name else [])
        k = 4 if 'odconv4x' in name else 1
        assert {m.kernel_num for m in model.modules()
                if isinstance(m, ODConv2d)} == {k}
    else:
        assert _n_odconv(model) == 0
    if 'mobilenetv2' in name:
        assert list(cfg.model.neck.in_channels) == [24, 32, 96, 1280]
    if 'coco' in name and '-all' not in name \
            and cfg.model.backbone.type in ('ODResNet', 'ODResNeXt'):
        # the paper's fine-tuning setting
        assert cfg.model.backbone.frozen_stages == 1
        assert cfg.model.backbone.norm_eval is True


@pytest.mark.parametrize('name', [
    'faster-rcnn_r50-odconv4x_fpn_1x_coco.py',
    'mask-rcnn_r50-odconv4x_fpn_1x_coco.py',
    'faster-rcnn_mobilenetv2-odconv4x_fpn_1x_coco.py',
    'retinanet_r50-odconv4x_fpn_1x_coco.py',
    'cascade-rcnn_r50-odconv4x_fpn_1x_coco.py',
    '../demo/rtmdet_tiny-odconv4x_demo.py',
])
def test_detector_loss_and_predict(name):
    from mmdet.testing import demo_mm_inputs
    cfg, model = _build(osp.join(ROOT, 'configs', 'odconv', name))
    model.init_weights()
    with_mask = 'mask' in name
    packed = demo_mm_inputs(2, [[3, 128, 160], [3, 160, 128]],
                            num_items=[3, 2],
                            num_classes=cfg.model.get('bbox_head', {}).get(
                                'num_classes', 80),
                            with_mask=with_mask)
    data = model.data_preprocessor(packed, True)
    model.train()
    losses = model.loss(data['inputs'], data['data_samples'])
    assert ('loss_mask' in losses) == with_mask
    total = sum(v.sum() if torch.is_tensor(v) else sum(v)
                for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    model.eval()
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        preds = model.predict(data['inputs'], data['data_samples'])
    assert len(preds) == 2 and hasattr(preds[0], 'pred_instances')


def test_demo_configs_share_one_schedule():
    cfgs = [Config.fromfile(p) for p in CONFIGS if '/demo/' in p]
    # R18: static, 1x, 4x, 4x without attention norm, 4x with zero-init
    # attention heads; RTMDet-tiny: static, 4x
    assert len(cfgs) == 7
    for key in ('train_cfg', 'param_scheduler', 'optim_wrapper',
                'randomness', 'train_dataloader'):
        assert all(c[key] == cfgs[0][key] for c in cfgs), key


@pytest.mark.parametrize('norm', [
    'default', dict(type='GN', num_groups=4), dict(type='LN'), None
], ids=['default-BN', 'GN', 'LN', 'none'])
def test_detector_trains_at_one_image_per_batch(norm):
    """One image per GPU, a common MMDetection setting, trains with every
    attention norm (the default BN uses its running statistics at B=1)."""
    from mmdet.testing import demo_mm_inputs
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'))
    if norm != 'default':
        cfg.model.backbone.odconv.attention_norm_cfg = norm
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    packed = demo_mm_inputs(1, [[3, 96, 96]], num_items=[2], num_classes=5)
    data = model.data_preprocessor(packed, True)
    losses = model.loss(data['inputs'], data['data_samples'])
    total = sum(v.sum() if torch.is_tensor(v) else sum(v)
                for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    grads = [m.weight.grad for m in model.modules()
             if isinstance(m, ODConv2d)]
    assert grads and all(g is not None for g in grads)


@pytest.mark.parametrize('name', [
    'faster-rcnn_mobilenetv2_fpn_1x_coco.py',
    'faster-rcnn_mobilenetv2-odconv4x_fpn_1x_coco.py',
    'mask-rcnn_mobilenetv2-odconv4x_fpn_1x_coco.py',
])
def test_mobilenetv2_freezes_what_the_official_recipe_freezes(name):
    """The official OD-MobileNetV2 detection config freezes the stem and the
    blocks up to the last 24-channel one (its ``features[0..3]``): here the
    stem, layer1 (16 ch) and layer2 (24 ch), attention included, and
    nothing from layer3 (32 ch) on."""
    _, model = _build(osp.join(ROOT, 'configs', 'odconv', name))
    backbone = model.backbone
    backbone.train()
    frozen = {n.split('.')[0] for n, p in backbone.named_parameters()
              if not p.requires_grad}
    trainable = {n.split('.')[0] for n, p in backbone.named_parameters()
                 if p.requires_grad}
    assert frozen == {'conv1', 'layer1', 'layer2'}
    assert not frozen & trainable
    assert backbone.layer2[-1].linear_conv.conv.out_channels == 24
    assert backbone.layer3[0].linear_conv.conv.out_channels == 32
    if 'odconv' in name:
        assert any('attention' in n for n, p in
                   backbone.layer2.named_parameters()
                   if not p.requires_grad)
