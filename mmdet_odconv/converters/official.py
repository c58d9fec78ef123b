"""Convert official ODConv ImageNet checkpoints to our backbones' keys.

The official ``main.py`` saves ``{'state_dict': ..., 'epoch': ..., ...}``
whose keys carry DataParallel's ``module.`` prefix. OD-ResNet keys already
match MMDetection's ResNet (``conv1``, ``bn1``, ``layerX.Y.convZ``,
``layerX.Y.downsample.0/1``) once the prefix and the classifier ``fc`` are
dropped. OD-MobileNetV2 (``features.N...``) is mapped onto MMDetection's
MobileNetV2 (``conv1``, ``layerX.Y.conv.Z``, ``conv2``) by module order,
each tensor checked for shape against the target backbone.
"""
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, Optional

import torch
import torch.nn as nn

from ..utils.safe_load import safe_torch_load

CLASSIFIER_PREFIXES = ('fc.', 'classifier.')


def _extract_state_dict(ckpt, src: str) -> Dict[str, torch.Tensor]:
    if isinstance(ckpt, dict) and isinstance(ckpt.get('state_dict'), dict):
        ckpt = ckpt['state_dict']
    if not (isinstance(ckpt, dict) and ckpt and all(
            isinstance(k, str) and isinstance(v, torch.Tensor)
            for k, v in ckpt.items())):
        raise ValueError(
            f'{src} is not an ODConv checkpoint: expected a dict with a '
            '"state_dict" of tensors (as the official main.py saves), or a '
            'plain state dict')
    return {(k[len('module.'):] if k.startswith('module.') else k): v
            for k, v in ckpt.items()}


def _by_order(src: Dict[str, torch.Tensor], target: nn.Module,
              path: str) -> 'OrderedDict[str, torch.Tensor]':
    """Map tensors onto ``target``'s keys in order, checking every shape."""
    tgt = target.state_dict()
    if len(src) != len(tgt):
        raise ValueError(
            f'{path}: {len(src)} tensors (classifier dropped) but the target '
            f'backbone has {len(tgt)}; check kernel_num and widen_factor')
    out = OrderedDict()
    for (sk, sv), (tk, tv) in zip(src.items(), tgt.items()):
        if sv.shape != tv.shape:
            raise ValueError(f'{path}: {sk} {tuple(sv.shape)} does not fit '
                             f'{tk} {tuple(tv.shape)} of the target backbone')
        out[tk] = sv
    return out


def convert_official_checkpoint(
        src: str, target: Optional[nn.Module] = None
) -> 'OrderedDict[str, torch.Tensor]':
    """Load an official ODConv checkpoint and return backbone weights.

    Args:
        src: Path of the official checkpoint (loaded with weights_only).
        target: The backbone the weights are for. Required for
            OD-MobileNetV2 (mapped by order); for OD-ResNet, when given,
            the result is checked to load into it with ``strict=True``.
    """
    sd = _extract_state_dict(safe_torch_load(src), src)
    sd = OrderedDict((k, v) for k, v in sd.items()
                     if not k.startswith(CLASSIFIER_PREFIXES))
    if any(k.startswith('features.') for k in sd):
        if target is None:
            raise ValueError(f'{src} looks like OD-MobileNetV2; give the '
                             'target backbone config to map it')
        sd = _by_order(sd, target, src)
    elif not any(k.startswith('layer1.') for k in sd):
        raise ValueError(f'{src}: neither OD-ResNet (layer1...) nor '
                         'OD-MobileNetV2 (features...) keys found')
    if target is not None:
        _check_kernel_num(sd, target, src)
        target.load_state_dict(sd, strict=True)
    return sd


def _check_kernel_num(sd: Dict[str, torch.Tensor], target: nn.Module,
                      src: str) -> None:
    """Name both kernel counts when checkpoint and backbone disagree."""
    from ..layers import ODConv2d
    for name, m in target.named_modules():
        w = sd.get(f'{name}.weight')
        if isinstance(m, ODConv2d) and w is not None and w.dim() == 5 \
                and w.size(0) != m.kernel_num:
            raise ValueError(
                f'{src} has kernel_num={w.size(0)} ({name}.weight) but the '
                f'target backbone has kernel_num={m.kernel_num}; use the '
                f'config with odconv{w.size(0)}x / '
                f'odconv=dict(kernel_num={w.size(0)})')


def save_atomic(obj, dst: str) -> None:
    """``torch.save`` to a temporary file, then rename: never half-written."""
    dst_dir = osp.dirname(osp.abspath(dst))
    os.makedirs(dst_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.pth', dir=dst_dir)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
