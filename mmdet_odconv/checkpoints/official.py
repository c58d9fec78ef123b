"""Convert checkpoints of the official ODConv code (OSVAI/ODConv).

Two kinds, told apart by their keys:

* ImageNet classifiers saved by the official ``main.py``
  (``{'state_dict': {'module.conv1.weight', ...}, 'epoch': ...}``) become
  backbone weights for ``init_cfg=dict(type='Pretrained', checkpoint=...)``.
* COCO detectors trained with its MMDetection 2.x code (``{'meta': ...,
  'state_dict': {'backbone.*', 'neck.*', 'rpn_head.*', 'roi_head.*'}}``)
  become MMDetection 3.x detector checkpoints. MMDetection 3.x kept the 2.x
  names of FPN, RPNHead, Shared2FCBBoxHead and FCNMaskHead, so only the
  backbone is mapped.

(OD-)ResNet keys are MMDetection's ResNet keys once the classifier ``fc`` is
dropped. (OD-)MobileNetV2's ``features.N`` modules are renamed to
MMDetection's ``conv1``, ``layerX.Y.{expand,depthwise,linear}_conv`` and
``conv2``; its classifier is dropped too. The result is checked tensor by
tensor against the target model (:func:`~.fit.compare_state_dict`, with
no inflation): missing, left-over and misshapen keys are an error that
names them and the likely cause, worded as the tools' checks word it.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from .fit import (CheckpointError, compare_state_dict, load_checkpoint_file,
                  mismatch_message)

StateDict = Dict[str, torch.Tensor]
CLASSIFIER_PREFIXES = ('fc.', 'classifier.')
# Official InvertedResidual.conv indices -> MMDetection's InvertedResidual
# (the first block of MobileNetV2 has no expansion conv).
_EXPANDED = {
    '0.0': 'expand_conv.conv', '0.1': 'expand_conv.bn',
    '1.0': 'depthwise_conv.conv', '1.1': 'depthwise_conv.bn',
    '2': 'linear_conv.conv', '3': 'linear_conv.bn'
}  # yapf: disable
_NOT_EXPANDED = {
    '0.0': 'depthwise_conv.conv', '0.1': 'depthwise_conv.bn',
    '1': 'linear_conv.conv', '2': 'linear_conv.bn'
}  # yapf: disable
_CONV_BN = {'0': 'conv', '1': 'bn'}  # ConvBNReLU -> ConvModule


def load_official(src: str) -> Tuple[StateDict, dict]:
    """Load an official checkpoint: its state dict (without DataParallel's
    ``module.`` prefix) and its ``meta`` dict (empty if none)."""
    sd, meta = load_checkpoint_file(src)
    if not (sd and all(
            isinstance(k, str) and isinstance(v, torch.Tensor)
            for k, v in sd.items())):
        raise ValueError(
            f'{src} is not an ODConv checkpoint: expected a dict with a '
            '"state_dict" of tensors (as the official main.py and '
            'MMDetection save), or a plain state dict')
    return sd, meta


def is_detector(sd: StateDict) -> bool:
    """Whether ``sd`` is a whole detector (``backbone.*`` keys)."""
    return any(k.startswith('backbone.') for k in sd)


def convert_backbone(sd: StateDict, backbone: nn.Module,
                     src: str) -> 'OrderedDict[str, torch.Tensor]':
    """Backbone weights of an ImageNet checkpoint, checked against
    ``backbone`` and loaded into it with ``strict=True``."""
    out = map_backbone(sd, backbone, src)
    check_state(out, backbone, src)
    backbone.load_state_dict(out, strict=True)
    return out


def convert_detector(sd: StateDict, detector: nn.Module,
                     src: str) -> 'OrderedDict[str, torch.Tensor]':
    """A detector state dict with its backbone mapped, checked against
    ``detector`` and loaded into it with ``strict=True``."""
    backbone = OrderedDict((k[len('backbone.'):], v) for k, v in sd.items()
                           if k.startswith('backbone.'))
    out = OrderedDict(
        ('backbone.' + k, v)
        for k, v in map_backbone(backbone, detector.backbone, src).items())
    out.update((k, v) for k, v in sd.items() if not k.startswith('backbone.'))
    check_state(out, detector, src)
    detector.load_state_dict(out, strict=True)
    return out


def is_classifier(model: nn.Module) -> bool:
    """Whether ``model`` is an MMPretrain-style classifier: a ``backbone``
    and a ``head`` whose ``fc`` is the last layer."""
    return hasattr(model, 'backbone') and isinstance(
        getattr(getattr(model, 'head', None), 'fc', None), nn.Linear)


def convert_classifier(sd: StateDict, classifier: nn.Module,
                       src: str) -> 'OrderedDict[str, torch.Tensor]':
    """A whole classifier's weights from an ImageNet checkpoint: the
    backbone mapped under ``backbone.``, the official last fc (``fc`` of
    ResNet, ``classifier.1`` of MobileNetV2) as ``head.fc``; checked
    against ``classifier`` and loaded into it with ``strict=True``."""
    out = OrderedDict(
        ('backbone.' + k, v)
        for k, v in map_backbone(sd, classifier.backbone, src).items())
    fc = [p for p in ('fc.', 'classifier.1.') if p + 'weight' in sd]
    if len(fc) != 1:
        raise ValueError(
            f'{src} has no ImageNet classifier (fc.weight or '
            'classifier.1.weight) to fill head.fc of the MMPretrain '
            'classifier; convert it for a detector config instead')
    for name in ('weight', 'bias'):
        out['head.fc.' + name] = sd[fc[0] + name]
    check_state(out, classifier, src)
    classifier.load_state_dict(out, strict=True)
    return out


def convert_official_checkpoint(
        src: str, target: nn.Module) -> 'OrderedDict[str, torch.Tensor]':
    """Load an official ImageNet checkpoint and return ``target``'s weights.

    Args:
        src: Path of the official checkpoint (loaded with weights_only).
        target: The backbone the weights are for; they are checked against
            it and loaded into it with ``strict=True``.
    """
    sd, _ = load_official(src)
    if is_detector(sd):
        raise ValueError(f'{src} is a whole detector (backbone.* keys); '
                         'convert it with convert_detector')
    return convert_backbone(sd, target, src)


def map_backbone(sd: StateDict, backbone: nn.Module,
                 src: str) -> 'OrderedDict[str, torch.Tensor]':
    """Drop the classifier and rename official keys to ``backbone``'s."""
    from mmdet.models.backbones import MobileNetV2
    sd = OrderedDict(
        (k, v) for k, v in sd.items() if not k.startswith(CLASSIFIER_PREFIXES))
    official_mobilenet = any(k.startswith('features.') for k in sd)
    if official_mobilenet != isinstance(backbone, MobileNetV2):
        raise ValueError(
            f'{src} holds a {_family(sd)} but the config builds a '
            f'{type(backbone).__name__}; use a config of the same backbone')
    if official_mobilenet:
        return _rename_mobilenet_v2(sd, backbone)
    return sd


def _family(sd: StateDict) -> str:
    if any(k.startswith('features.') for k in sd):
        return 'MobileNetV2 (features.N keys)'
    if any(k.startswith('layer1.') for k in sd):
        return 'ResNet (layer1... keys)'
    return f'backbone of unknown layout (first key {next(iter(sd), None)})'


def _rename_mobilenet_v2(
        sd: StateDict,
        backbone: nn.Module) -> 'OrderedDict[str, torch.Tensor]':
    """``features.N...`` -> ``conv1``, ``layerX.Y...``, ``conv2``."""
    blocks = [
        f'{name}.{i}' for name in backbone.layers if name != 'conv2'
        for i in range(len(getattr(backbone, name)))
    ]
    expanded = {
        int(k.split('.')[1])
        for k in sd if re.match(r'features\.\d+\.conv\.3\.', k)
    }
    return OrderedDict(
        (_mobilenet_v2_name(k, blocks, expanded), v) for k, v in sd.items())


def _mobilenet_v2_name(key: str, blocks: List[str], expanded: set) -> str:
    """MMDetection's name of one official key; unknown keys keep theirs,
    so that the key check reports them."""
    m = re.fullmatch(r'features\.(\d+)\.(.+)', key)
    if m is None:
        return key
    index, rest = int(m.group(1)), m.group(2)
    if index in (0, len(blocks) + 1):  # ConvBNReLU: stem or last conv
        prefix, table = ('conv1' if index == 0 else 'conv2'), _CONV_BN
    elif index <= len(blocks) and rest.startswith('conv.'):
        prefix = blocks[index - 1]
        table = _EXPANDED if index in expanded else _NOT_EXPANDED
        rest = rest[len('conv.'):]
    else:
        return key
    m = re.fullmatch(r'(\d+(?:\.\d+)?)\.(\D.*)', rest)
    if m is None or m.group(1) not in table:
        return key
    return f'{prefix}.{table[m.group(1)]}.{m.group(2)}'


def check_state(sd: StateDict, model: nn.Module, src: str) -> None:
    """Raise, naming the keys and the likely cause, unless ``sd`` fits
    ``model`` exactly (loaded into it as the tools' check loads, but
    without inflating static or one-kernel weights)."""
    diff = compare_state_dict(model, sd, inflation_ok=False)
    if diff or diff.inflated:
        raise CheckpointError(
            mismatch_message(
                src, 'the config', model, sd, diff,
                'A converted checkpoint must load with strict=True.',
                'convert'))


def detector_meta(src_meta: dict,
                  src: str,
                  config: Optional[str] = None) -> dict:
    """``meta`` of a converted detector: ``dataset_meta`` as MMDetection 3
    writes it (COCO's classes and palette unless the source names other
    classes) and where the weights came from."""
    from mmdet.datasets import CocoDataset
    coco = CocoDataset.METAINFO
    classes = src_meta.get('CLASSES')
    if classes is None or tuple(classes) == tuple(coco['classes']):
        dataset_meta = dict(
            classes=tuple(coco['classes']), palette=list(coco['palette']))
    else:
        dataset_meta = dict(classes=tuple(classes))
    meta = dict(
        dataset_meta=dataset_meta,
        converted_from=osp.basename(src),
        source_mmdet_version=src_meta.get('mmdet_version'))
    if config is not None:
        meta['config'] = config
    return meta
