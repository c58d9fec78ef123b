"""MMPretrain ImageNet configs of configs/pretrain and their checkpoints.

MMPretrain needs torchvision, which loads only on the torch 2.1 stack
(``make test-compat``); elsewhere the module is skipped.
"""
import glob
import os.path as osp
from collections import OrderedDict

import pytest
import torch

try:
    import mmdet_odconv.pretraining  # noqa: F401
except ImportError as exc:
    pytest.skip(
        'MMPretrain needs torchvision, and no torchvision loads against this '
        f'torch ({torch.__version__}); run on the torch 2.1 stack: make '
        f'test-compat ({exc})',
        allow_module_level=True)

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmdet_odconv import ODConv2d, get_temperature
from tests.test_checkpoints.test_official_layout import (mobilenet_v2,
                                                         num_params,
                                                         random_state,
                                                         reference_backbone,
                                                         resnet50)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = osp.join(ROOT, 'configs', 'pretrain')
CONFIGS = sorted(osp.basename(p) for p in glob.glob(osp.join(PRETRAIN, '*.py')))
# Parameters of the official classifiers (1000 classes), counted on the
# models of OSVAI/ODConv (models/od_resnet.py, models/od_mobilenetv2.py)
# built with these kernel numbers; the README prints them as 44.90M, 28.64M,
# 90.67M and 11.51M.
OFFICIAL_PARAMS = {
    'odresnet18-4x_8xb32_in1k.py': 44_901_640,
    'odresnet50-1x_8xb32_in1k.py': 28_635_112,
    'odresnet50-4x_8xb32_in1k.py': 90_670_888,
    'odmobilenet-v2-4x_8xb32_in1k.py': 11_512_149,
}
# pretrain config -> (kernel_num, the detector config its backbone feeds)
DETECTORS = {
    'odresnet18-4x_8xb32_in1k.py':
    (4, 'faster-rcnn_r18-odconv4x_fpn_1x_coco.py'),
    'odresnet50-1x_8xb32_in1k.py':
    (1, 'faster-rcnn_r50-odconv1x_fpn_1x_coco.py'),
    'odresnet50-4x_8xb32_in1k.py':
    (4, 'faster-rcnn_r50-odconv4x_fpn_1x_coco.py'),
    'odmobilenet-v2-4x_8xb32_in1k.py':
    (4, 'faster-rcnn_mobilenetv2-odconv4x_fpn_1x_coco.py'),
    'odcspnext-tiny-4x_8xb256-rsb-a1-600e_in1k.py':
    (4, 'rtmdet_tiny-odconv4x_8xb32-300e_coco.py'),
}


def _classifier(cfg: Config):
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model)


def _detector(name: str, checkpoint: str):
    """The detector config with its backbone from ``checkpoint``, as a
    user points it at an MMPretrain checkpoint."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'odconv', name))
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=checkpoint, prefix='backbone.')
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _assert_backbone_is(det, classifier_state: dict) -> None:
    """The detector's backbone holds exactly the classifier's backbone
    tensors: every key filled, every value equal."""
    want = {k[len('backbone.'):]: v for k, v in classifier_state.items()
            if k.startswith('backbone.')}
    got = det.backbone.state_dict()
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], v) for k, v in want.items())


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_every_pretrain_config_is_listed_here():
    assert CONFIGS == sorted(DETECTORS)


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_the_recipe_and_feeds_its_detector(name, tmp_path):
    """The classifier builds from MMPretrain's scope with the recipe the
    header names; its backbone loads, every tensor, into the detector."""
    cfg = Config.fromfile(osp.join(PRETRAIN, name))
    assert cfg.default_scope == 'mmpretrain'
    model = _classifier(cfg)
    kernel_num, detector = DETECTORS[name]
    assert {m.kernel_num for m in model.modules()
            if isinstance(m, ODConv2d)} == {kernel_num}
    if name in OFFICIAL_PARAMS:
        assert _n_params(model) == OFFICIAL_PARAMS[name]
        assert model.head.dropout.p == 0.2
    hook, = [h for h in cfg.custom_hooks
             if h.type == 'ODConvTemperatureHook']
    assert (hook.start, hook.end, hook.duration, hook.by_epoch) == (
        30.0, 1.0, 10, True)
    opt = cfg.optim_wrapper.optimizer
    if 'odresnet' in name:
        assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == (
            'SGD', 0.1, 0.9, 1e-4)
        assert cfg.param_scheduler.milestones == [30, 60, 90]
        assert cfg.train_cfg.max_epochs == 100
    elif 'mobilenet' in name:
        assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == (
            'SGD', 0.05, 0.9, 4e-5)
        assert cfg.param_scheduler.type == 'CosineAnnealingLR'
        assert cfg.train_cfg.max_epochs == 150
    else:  # MMDetection's CSPNeXt recipe
        assert opt.type == 'Lamb' and cfg.train_cfg.max_epochs == 600
    if 'odresnet' in name or 'mobilenet' in name:
        assert cfg.train_dataloader.batch_size == 32
        assert cfg.auto_scale_lr.base_batch_size == 256

    ckpt = str(tmp_path / 'classifier.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    _assert_backbone_is(_detector(detector, ckpt), model.state_dict())


def test_official_counts_match_the_rebuilt_official_layout():
    """The constants above, against the official key layout of the tests
    that check the converter."""
    assert num_params(resnet50(1)) == OFFICIAL_PARAMS[
        'odresnet50-1x_8xb32_in1k.py']
    assert num_params(resnet50(4)) == OFFICIAL_PARAMS[
        'odresnet50-4x_8xb32_in1k.py']
    assert num_params(mobilenet_v2(4)) == OFFICIAL_PARAMS[
        'odmobilenet-v2-4x_8xb32_in1k.py']


def test_dropout_head_drops_in_training_only():
    from mmpretrain.models.heads import LinearClsHead

    from mmdet_odconv.pretraining import DropoutLinearClsHead
    head = DropoutLinearClsHead(10, 16, dropout=0.5)
    plain = LinearClsHead(10, 16)
    plain.load_state_dict(head.state_dict())
    feats = (torch.randn(64, 16), )
    head.eval()
    torch.testing.assert_close(head(feats), plain(feats))
    head.train()
    assert not torch.allclose(head(feats), plain(feats))
    with pytest.raises(ValueError, match='dropout must be a probability'):
        DropoutLinearClsHead(10, 16, dropout=1.0)


def _imagenet_folder(root, classes=(3, 7), per_class=2, size=40):
    """An ImageNet-format folder: train/ and val/ with a class folder each,
    and meta/{train,val}.txt listing ``path label`` (labels < 1000)."""
    import cv2
    rng = np.random.default_rng(0)
    (root / 'meta').mkdir(parents=True)
    for split in ('train', 'val'):
        lines = []
        for label in classes:
            folder = root / split / f'n{label:08d}'
            folder.mkdir(parents=True)
            for i in range(per_class):
                img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                cv2.imwrite(str(folder / f'{i}.JPEG'), img)
                lines.append(f'n{label:08d}/{i}.JPEG {label}')
        (root / 'meta' / f'{split}.txt').write_text('\n'.join(lines) + '\n')


def test_train_save_and_load_into_the_detector(tmp_path):
    """A few iterations of the OD-R18 4x recipe on a generated ImageNet
    folder, with the temperature annealing; the saved checkpoint fills the
    detector's backbone and the detector's loss is finite."""
    from mmengine.runner import Runner
    from mmdet.testing import demo_mm_inputs
    data = tmp_path / 'imagenet'
    _imagenet_folder(data)
    cfg = Config.fromfile(osp.join(PRETRAIN, 'odresnet18-4x_8xb32_in1k.py'))
    small = dict(train=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=32, backend='pillow'),
        dict(type='PackInputs')
    ], val=[
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=36, edge='short', backend='pillow'),
        dict(type='CenterCrop', crop_size=32),
        dict(type='PackInputs')
    ])
    for split in ('train', 'val'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=str(data), pipeline=small[split])
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_epochs = 1
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    # 2 iterations of an epoch; before the second, 0.5 epoch in of 10
    assert get_temperature(runner.model) == pytest.approx(30 - 29 * 0.05)
    ckpt = osp.join(cfg.work_dir, 'epoch_1.pth')
    saved = torch.load(ckpt, map_location='cpu')
    assert saved['meta']['odconv_temperature'] == pytest.approx(28.55)

    det = _detector('faster-rcnn_r18-odconv4x_fpn_1x_coco.py', ckpt)
    _assert_backbone_is(det, saved['state_dict'])
    packed = demo_mm_inputs(1, [[3, 96, 96]], num_items=[2], num_classes=80)
    batch = det.data_preprocessor(packed, True)
    det.train()
    losses = det.loss(batch['inputs'], batch['data_samples'])
    total = sum(v.sum() if torch.is_tensor(v) else sum(v)
                for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)


@pytest.mark.parametrize('arch', ['r50', 'mobilenetv2'])
def test_official_checkpoint_converts_to_the_classifier(tmp_path, arch):
    """The converter fills the whole MMPretrain classifier, the official
    fc included: its logits are the official network's."""
    from tools.model_converters.odconv_official_to_mmdet import main as cli
    entries, config, fc = {
        'r50': (resnet50(1), 'odresnet50-1x_8xb32_in1k.py', 'fc'),
        'mobilenetv2': (mobilenet_v2(4), 'odmobilenet-v2-4x_8xb32_in1k.py',
                        'classifier.1'),
    }[arch]
    state = random_state(entries)
    src, dst = tmp_path / 'official.pth.tar', tmp_path / 'classifier.pth'
    torch.save({'state_dict': OrderedDict(
        ('module.' + k, v) for k, v in state.items())}, src)
    path = osp.join(PRETRAIN, config)
    assert cli([str(src), str(dst), '--config', path]) == 0
    model = _classifier(Config.fromfile(path))
    model.load_state_dict(torch.load(dst)['state_dict'], strict=True)
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = model(x, mode='tensor')
    pooled = reference_backbone(state, arch, x)[-1].mean((2, 3))
    want = pooled @ state[fc + '.weight'].T + state[fc + '.bias']
    torch.testing.assert_close(logits, want, rtol=1e-4, atol=1e-4)
