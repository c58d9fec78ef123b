"""Backbone pretraining by image classification, with MMEngine alone.

Why: the study of ``tools/analysis_tools/pretrain_finetune_study.py``
pretrains the demo detector's backbones on the generated classification set
(``shapes_cls``) before fine-tuning them for detection, as the paper does
with ImageNet. MMPretrain is not part of our stack, so this module holds
the few pieces its runner needs, registered in MMEngine's root registries
(found from any default scope):

- ``ShapesClsDataset``: the set as tensors, random crop with padding and
  horizontal flip for training;
- ``BackboneClassifier``: any MMDetection backbone, global average pooling,
  dropout and a linear classifier; its ``backbone.*`` weights are the
  detector's ``backbone.*`` weights;
- ``TopKAccuracy``: top-1 / top-5 accuracy in percent;
- ``save_backbone`` and ``backbone_fit``: the backbone's weights as a small
  checkpoint that ``init_cfg=dict(type='Pretrained', prefix='backbone.',
  checkpoint=PATH)`` loads, and a check that it loads into a detector with
  no key missing, unexpected or of another shape.
"""
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS
from torch.utils.data import Dataset

from .shapes_cls import load_shapes_cls, read_classes

__all__ = [
    'ShapesClsDataset', 'BackboneClassifier', 'TopKAccuracy',
    'save_backbone', 'backbone_fit', 'BACKBONE_PREFIX'
]

BACKBONE_PREFIX = 'backbone.'


@DATASETS.register_module()
class ShapesClsDataset(Dataset):
    """A split of a ``generate_shapes_cls`` set, one sample per image.

    A sample is ``dict(inputs=uint8 tensor [3, H, W] (BGR),
    data_samples=label)``; use ``collate_fn=dict(type='default_collate')``
    so a batch is one stacked tensor and one label tensor. Augmentation
    draws from numpy's global generator, which MMEngine seeds (and seeds
    per data-loader worker).

    Args:
        data_root (str): Folder of the generated set.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        augment (bool, optional): Random crop and flip. Defaults to True
            for the train split, False otherwise.
        crop_padding (int): Zero padding of the random crop, in pixels.
            Defaults to 4.
        flip_prob (float): Probability of a horizontal flip (every class
            is mirror-symmetric). Defaults to 0.5.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 augment: Optional[bool] = None,
                 crop_padding: int = 4,
                 flip_prob: float = 0.5) -> None:
        if crop_padding < 0:
            raise ValueError(f'crop_padding must be >= 0, got {crop_padding}')
        self.data_root = data_root
        self.split = split
        self.augment = split == 'train' if augment is None else augment
        self.crop_padding = int(crop_padding)
        self.flip_prob = float(flip_prob)
        _, self.labels = load_shapes_cls(data_root, split)
        self.metainfo = dict(classes=tuple(read_classes(data_root)))
        self._images: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.labels)

    def __getstate__(self) -> dict:
        # workers map the file themselves instead of unpickling a copy
        return dict(self.__dict__, _images=None)

    @property
    def images(self) -> np.ndarray:
        if self._images is None:
            self._images, _ = load_shapes_cls(self.data_root, self.split)
        return self._images

    def _augment(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        p = self.crop_padding
        if p:
            dy, dx = np.random.randint(-p, p + 1, size=2)
            out = np.zeros_like(img)
            out[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] = \
                img[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
            img = out
        if np.random.random() < self.flip_prob:
            img = img[:, ::-1]
        return img

    def __getitem__(self, index: int) -> Dict[str, Any]:
        img = np.asarray(self.images[index])
        if self.augment:
            img = self._augment(img)
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0,
                                                                     1)))
        return dict(inputs=inputs, data_samples=int(self.labels[index]))


@MODELS.register_module()
class BackboneClassifier(BaseModel):
    """Backbone -> global average pooling -> dropout -> linear.

    Args:
        backbone (dict): Backbone config (e.g. MMDetection's ``ResNet`` or
            our ``ODResNet``); its last output is classified.
        num_classes (int): Number of classes.
        in_channels (int, optional): Channels of the last backbone output.
            Defaults to the backbone's ``feat_dim``.
        dropout (float): Dropout before the classifier. Defaults to 0.2.
        data_preprocessor (dict, optional): E.g. ``ImgDataPreprocessor``
            with the detector's mean, std and ``bgr_to_rgb``.
        init_cfg (dict, optional): Defaults to a normal init (std 0.01) of
            the classifier; the backbone keeps its own.
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 in_channels: Optional[int] = None,
                 dropout: float = 0.2,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer='Linear', std=0.01)) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if in_channels is None:
            in_channels = getattr(self.backbone, 'feat_dim', None)
        if in_channels is None:
            raise ValueError('in_channels is needed: the backbone has no '
                             'feat_dim attribute')
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[Union[torch.Tensor,
                                             Sequence[int]]] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, dict, list]:
        """``'tensor'``: logits ``[N, num_classes]``; ``'loss'``:
        ``dict(loss=cross entropy)``; ``'predict'``: one dict per image
        (``pred_score``, softmax; ``pred_label``; ``gt_label`` if given)."""
        feats = self.backbone(inputs)
        feat = feats[-1] if isinstance(feats, (tuple, list)) else feats
        logits = self.fc(self.dropout(torch.flatten(
            F.adaptive_avg_pool2d(feat, 1), 1)))
        if mode == 'tensor':
            return logits
        labels = None
        if data_samples is not None:
            labels = torch.as_tensor(data_samples, device=logits.device)
        if mode == 'loss':
            if labels is None:
                raise ValueError("mode='loss' needs the labels "
                                 '(data_samples)')
            return dict(loss=F.cross_entropy(logits, labels.long()))
        if mode == 'predict':
            scores = logits.softmax(dim=1).detach().cpu()
            return [
                dict(pred_score=s, pred_label=int(s.argmax()),
                     gt_label=None if labels is None else int(labels[i]))
                for i, s in enumerate(scores)
            ]
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', "
                         f'got {mode!r}')


@METRICS.register_module()
class TopKAccuracy(BaseMetric):
    """Top-k accuracy in percent (``accuracy/top1``, ``accuracy/top5``).

    A sample counts as right at k when fewer than k classes score strictly
    higher than its true class.
    """

    default_prefix = 'accuracy'

    def __init__(self,
                 topk: Sequence[int] = (1, 5),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not topk or any(int(k) < 1 for k in topk):
            raise ValueError(f'topk must hold integers >= 1, got {topk}')
        self.topk = tuple(int(k) for k in topk)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score, gt = sample['pred_score'], sample['gt_label']
            self.results.append(int((score > score[gt]).sum()))

    def compute_metrics(self, results: List[int]) -> Dict[str, float]:
        ranks = np.asarray(results)
        return {f'top{k}': float((ranks < k).mean() * 100) for k in self.topk}


def save_backbone(model_or_state: Union[nn.Module, Dict[str, torch.Tensor]],
                  path: str,
                  meta: Optional[dict] = None) -> Dict[str, torch.Tensor]:
    """Save the ``backbone.*`` weights as a checkpoint, atomically.

    The file is ``dict(state_dict=..., meta=meta)`` with the ``backbone.``
    prefix kept, which is what ``init_cfg=dict(type='Pretrained',
    prefix='backbone.', checkpoint=path)`` expects. Written to a temporary
    name and renamed, so ``path`` is either absent or complete. Returns the
    saved state dict.
    """
    state = (model_or_state.state_dict() if isinstance(
        model_or_state, nn.Module) else model_or_state)
    state = {
        k: v.detach().cpu().clone()
        for k, v in state.items() if k.startswith(BACKBONE_PREFIX)
    }
    if not state:
        raise ValueError(f'no {BACKBONE_PREFIX}* weights to save')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp-{os.getpid()}'
    try:
        torch.save(dict(state_dict=state, meta=dict(meta or {})), tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return state


def backbone_fit(checkpoint: str,
                 config: str,
                 cfg_options: Optional[dict] = None) -> Dict[str, Any]:
    """How the ``backbone.*`` weights of ``checkpoint`` load into the
    backbone of the detector of ``config``.

    Two independent checks: the key names and shapes against the built
    backbone's state dict (``missing``, ``unexpected``, ``mismatched``),
    and the detector's own ``init_weights`` with its ``init_cfg`` pointed
    at ``checkpoint`` (MMEngine's ``Pretrained`` with ``prefix``), after
    which every backbone tensor must equal the checkpoint's
    (``not_loaded``: the keys that do not). ``ok`` is True when all four
    lists are empty.
    """
    from ..checkpoints import safe_torch_load
    from ..tools_support import build_detector

    ckpt = safe_torch_load(checkpoint)
    state = ckpt.get('state_dict', ckpt)
    theirs = {
        k[len(BACKBONE_PREFIX):]: v
        for k, v in state.items() if k.startswith(BACKBONE_PREFIX)
    }
    opts = dict(cfg_options or {})
    opts['model.backbone.init_cfg'] = dict(
        type='Pretrained', prefix=BACKBONE_PREFIX, checkpoint=checkpoint)
    detector = build_detector(config, cfg_options=opts)
    ours = detector.backbone.state_dict()
    missing = sorted(set(ours) - set(theirs))
    unexpected = sorted(set(theirs) - set(ours))
    mismatched = sorted(k for k in set(ours) & set(theirs)
                        if tuple(ours[k].shape) != tuple(theirs[k].shape))
    detector.init_weights()
    loaded = detector.backbone.state_dict()
    not_loaded = sorted(
        k for k in set(loaded) & set(theirs) if k not in mismatched
        and not torch.equal(loaded[k].cpu(), theirs[k].to(loaded[k].dtype)))
    return dict(
        ok=not (missing or unexpected or mismatched or not_loaded),
        missing=missing, unexpected=unexpected, mismatched=mismatched,
        not_loaded=not_loaded, num_tensors=len(theirs))
