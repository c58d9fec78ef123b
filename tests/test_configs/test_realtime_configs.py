"""The real-time detector and neck-ablation configs build, train and
predict, with as many ODConv layers as their headers say."""
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmdet_odconv  # noqa: F401
from mmdet_odconv import ODConv2d

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(ROOT, 'configs', 'odconv')

# config: (ODConv layers in backbone, in neck, kernels); the header of each
# ODConv config states the total.
LAYERS = {
    'rtmdet_tiny_8xb32-300e_coco.py': (0, 0, None),
    'rtmdet_tiny-odconv1x_8xb32-300e_coco.py': (26, 0, 1),
    'rtmdet_tiny-odconv4x_8xb32-300e_coco.py': (26, 0, 4),
    'rtmdet_tiny-odconv4x_pafpn-odconv4x_8xb32-300e_coco.py': (26, 27, 4),
    'rtmdet_s_8xb32-300e_coco.py': (0, 0, None),
    'rtmdet_s-odconv1x_8xb32-300e_coco.py': (32, 0, 1),
    'rtmdet_s-odconv4x_8xb32-300e_coco.py': (32, 0, 4),
    'rtmdet_s-odconv4x_pafpn-odconv4x_8xb32-300e_coco.py': (32, 27, 4),
    'yolox_s_8xb8-300e_coco.py': (0, 0, None),
    'yolox_s-odconv1x_8xb8-300e_coco.py': (30, 0, 1),
    'yolox_s-odconv4x_8xb8-300e_coco.py': (30, 0, 4),
    'faster-rcnn_r50-odconv4x_fpn-odconv4x_1x_coco.py': (48, 8, 4),
}
ODCONV_CONFIGS = [name for name, (n, _, _) in LAYERS.items() if n]


def _build(name):
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    cfg.model.backbone.pop('init_cfg', None)  # no weights offline
    return cfg, MODELS.build(cfg.model)


def _odconvs(module):
    return [m for m in module.modules() if isinstance(m, ODConv2d)]


@pytest.mark.parametrize('name', list(LAYERS))
def test_odconv_layers_as_the_header_says(name):
    n_backbone, n_neck, kernels = LAYERS[name]
    cfg, model = _build(name)
    assert len(_odconvs(model.backbone)) == n_backbone
    assert len(_odconvs(model.neck)) == n_neck
    assert len(_odconvs(model)) == n_backbone + n_neck  # head static
    with open(osp.join(CONFIG_DIR, name)) as f:
        lines = f.read().splitlines()
    header = ' '.join(
        line.lstrip('#').strip() for line in lines if line.startswith('#'))
    if n_backbone:
        total = n_backbone + n_neck
        assert re.search(rf'\b{total} ODConv layers', header), header
        assert {m.kernel_num for m in _odconvs(model)} == {kernels}
        assert cfg.custom_imports.imports == ['mmdet_odconv']
    else:  # the static baseline is MMDetection's config unchanged
        code = [
            line for line in lines if line.strip() and not line.startswith('#')
        ]
        assert len(code) == 1 and code[0].startswith("_base_ = 'mmdet::")


def _total_loss(losses):
    return sum(v.sum() if torch.is_tensor(v) else sum(v)
               for k, v in losses.items() if 'loss' in k)


@pytest.mark.parametrize('name', ODCONV_CONFIGS)
def test_trains_a_step_and_predicts(name):
    from mmdet.testing import demo_mm_inputs
    _, model = _build(name)
    model.init_weights()
    # YOLOX's multi-scale batch resize reads the runner's iteration
    model.data_preprocessor.batch_augments = None
    packed = demo_mm_inputs(
        2, [[3, 64, 64], [3, 64, 64]], num_items=[3, 2], num_classes=80)
    model.train()
    data = model.data_preprocessor(packed, True)
    total = _total_loss(model.loss(data['inputs'], data['data_samples']))
    assert torch.isfinite(total)
    total.backward()
    trainable = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
    no_grad = [n for n, p in trainable if p.grad is None]
    assert not no_grad, no_grad
    # ResNet zero-initialises the last BN of every residual branch, whose
    # convs therefore get zero gradients in the first step
    learning = model.neck if 'r50' in name else model
    assert all(m.weight.grad.abs().sum() > 0 for m in _odconvs(learning)
               if m.weight.requires_grad)  # frozen stages have none
    model.eval()
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        preds = model.predict(data['inputs'], data['data_samples'])
    assert len(preds) == 2
    assert all(hasattr(p, 'pred_instances') for p in preds)


@pytest.mark.parametrize('name', [n for n in ODCONV_CONFIGS if 'rtmdet' in n])
def test_rtmdet_backbone_keeps_the_static_imagenet_checkpoint(name):
    """No ImageNet OD-CSPNeXt exists: the ODConv configs load the
    baseline's static CSPNeXt checkpoint (inflated into the bank)."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    base = Config.fromfile(
        osp.join(CONFIG_DIR,
                 name.split('-odconv')[0] + '_8xb32-300e_coco.py'))
    assert cfg.model.backbone.init_cfg == base.model.backbone.init_cfg
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    assert cfg.model.neck.get('init_cfg') == base.model.neck.get('init_cfg')
