"""A small, deterministic COCO-format dataset of drawn shapes.

Why: the CPU demo (``make demo``) and the tests must train and evaluate a
detector with instance masks end to end in minutes, offline, without COCO.
The task is kept from being trivial: colours are random and not tied to the
class, circle and ring share an outline, objects vary in size (about
12-80 px at 192 px), rotation and shading, overlap and occlude each other,
and sit on noisy gradient/textured backgrounds with clutter (lines, stains,
irregular blobs) that is not annotated.

Annotations describe what is visible: an object's ``bbox``, ``area`` and
polygon ``segmentation`` come from its mask after occlusion by the objects
drawn after it; objects left with too few visible pixels are not annotated.

Generation is reproducible and atomic: image ``i`` of a split is drawn from
``numpy.random.default_rng([seed, split_id, i])`` (so train and val differ
and any image can be regenerated alone; PNG and JSON bytes are identical
across runs), and the dataset is written into a temporary sibling folder
that is renamed into place only when complete.
"""
import json
import os
import os.path as osp
import shutil
from typing import Any, Dict, Optional, Tuple

import numpy as np

from ..tools_support.data_check import load_json
from .shapes import (DEMO_CLASSES, cv2, mask_to_polygons, need_cv2,
                     render_image, rng_for)

__all__ = [
    'DEMO_CLASSES', 'DEFAULT_DIR', 'generate_coco_dataset',
    'is_complete_dataset', 'demo_dataset_root'
]

# (folder, split id mixed into each image's seed).
SPLITS: Tuple[Tuple[str, int], ...] = (('train', 0), ('val', 1))
ANN_DIR = 'annotations'
DEFAULT_DIR = 'data/odconv_demo'  # where the tools put it by default
_KNOWN_ENTRIES = {'train', 'val', ANN_DIR}


def _annotation(mask: np.ndarray, label: int, ann_id: int,
                image_id: int) -> Optional[Dict[str, Any]]:
    """COCO annotation of a visible mask (None if it has no polygon)."""
    polys = mask_to_polygons(mask)
    if not polys:
        return None
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    bbox = [float(x0), float(y0), float(xs.max() + 1 - x0),
            float(ys.max() + 1 - y0)]
    return dict(id=ann_id, image_id=image_id, category_id=label + 1,
                bbox=bbox, area=float(mask.sum()), segmentation=polys,
                iscrowd=0)


def _write_png(path: str, image: np.ndarray) -> None:
    """Write a PNG (fixed compression level, so bytes are reproducible)."""
    ok, buf = cv2.imencode('.png', image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise OSError(f'could not encode {path} as PNG')
    with open(path, 'wb') as f:
        f.write(buf.tobytes())


def _write_split(root: str, split: str, split_id: int, num_images: int,
                 image_size: int, seed: int) -> Dict[str, Any]:
    """Draw one split's images into ``root/split`` and build its COCO dict."""
    img_dir = osp.join(root, split)
    os.makedirs(img_dir)
    images, annotations = [], []
    for index in range(num_images):
        rng = rng_for(seed, split_id, index)
        image, objects = render_image(rng, image_size)
        image_id = index + 1
        file_name = f'{image_id:06d}.png'
        _write_png(osp.join(img_dir, file_name), image)
        images.append(dict(id=image_id, file_name=file_name,
                           height=image_size, width=image_size))
        for label, mask in objects:
            ann = _annotation(mask, label, len(annotations) + 1, image_id)
            if ann is not None:
                annotations.append(ann)
    return dict(
        info=dict(description='mmdet_odconv synthetic shapes '
                  f'({split})', version='1', seed=seed,
                  image_size=image_size),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=[dict(id=i + 1, name=n, supercategory='shape')
                    for i, n in enumerate(DEMO_CLASSES)])


def _json_path(out_dir: str, split: str) -> str:
    """Path of a split's annotation file."""
    return osp.join(out_dir, ANN_DIR, f'instances_{split}.json')


def demo_dataset_root(path: str) -> Optional[str]:
    """The dataset folder of ``path`` if it is an annotation file in this
    generator's layout (``ROOT/annotations/instances_{train,val}.json``),
    else None: lets the data check point to the generator."""
    for split, _ in SPLITS:
        tail = osp.join(ANN_DIR, f'instances_{split}.json')
        norm = osp.normpath(path)
        if norm == tail or norm.endswith(os.sep + tail):
            return norm[:-len(tail)].rstrip(os.sep) or '.'
    return None


def is_complete_dataset(out_dir: str) -> bool:
    """Whether ``out_dir`` holds both annotation files and both image
    folders of a dataset in this generator's layout."""
    return all(
        osp.isfile(_json_path(out_dir, s)) and osp.isdir(osp.join(out_dir, s))
        for s, _ in SPLITS)


def _check_same_recipe(out_dir: str, counts: Dict[str, int],
                       image_size: int, seed: int) -> None:
    """Refuse to reuse a dataset generated with other arguments."""
    diffs = []
    for split, _ in SPLITS:
        coco = load_json(_json_path(out_dir, split))
        info = coco.get('info') or {}
        have = dict(images=len(coco.get('images', [])),
                    image_size=info.get('image_size'), seed=info.get('seed'))
        want = dict(images=counts[split], image_size=image_size, seed=seed)
        diffs += [f'{split} {k}: {have[k]} there, {v} asked'
                  for k, v in want.items() if have[k] != v]
    if diffs:
        raise ValueError(
            f'{out_dir} holds a dataset generated with other arguments '
            f'({"; ".join(diffs)}); pass overwrite=True (--overwrite) to '
            'regenerate it, or choose another out_dir.')


def _summary(out_dir: str, reused: bool,
             data: Optional[Dict[str, Dict[str, Any]]] = None
             ) -> Dict[str, Any]:
    """Paths and counts returned by generate_coco_dataset."""
    out: Dict[str, Any] = dict(out_dir=out_dir, reused=reused,
                               classes=DEMO_CLASSES)
    for split, _ in SPLITS:
        path = _json_path(out_dir, split)
        coco = data[split] if data else load_json(path)
        out[f'{split}_img_dir'] = osp.join(out_dir, split)
        out[f'{split}_ann_file'] = path
        out[f'num_{split}_images'] = len(coco['images'])
        out[f'num_{split}_annotations'] = len(coco['annotations'])
    return out


def _check_replaceable(out_dir: str) -> None:
    """Refuse to delete a folder that is not a dataset made here."""
    extra = set(os.listdir(out_dir)) - _KNOWN_ENTRIES
    if extra:
        raise ValueError(
            f'{out_dir} exists and holds {sorted(extra)[:5]}, which this '
            'generator did not write; refusing to replace it. Choose another '
            'out_dir or remove the folder yourself.')


def generate_coco_dataset(out_dir: str, num_train: int = 600,
                          num_val: int = 100, image_size: int = 192,
                          seed: int = 0,
                          overwrite: bool = False) -> Dict[str, Any]:
    """Write the synthetic COCO dataset to ``out_dir`` (atomically).

    Layout: ``train/*.png``, ``val/*.png`` and
    ``annotations/instances_{train,val}.json``. A complete existing dataset
    is reused unless ``overwrite``. Returns paths (``out_dir``,
    ``{split}_img_dir``, ``{split}_ann_file``), counts
    (``num_{split}_images``, ``num_{split}_annotations``), ``classes`` and
    ``reused``.
    """
    if num_train < 1 or num_val < 1:
        raise ValueError('num_train and num_val must be >= 1, got '
                         f'{num_train} and {num_val}')
    if image_size < 32:
        raise ValueError(f'image_size must be >= 32, got {image_size}')
    if seed < 0:
        raise ValueError(f'seed must be >= 0, got {seed}')
    out_dir = osp.normpath(out_dir)
    if osp.isdir(out_dir) and is_complete_dataset(out_dir) and not overwrite:
        _check_same_recipe(out_dir, dict(train=num_train, val=num_val),
                           image_size, seed)
        print(f'[synthetic_coco] reusing the dataset in {out_dir} '
              '(pass overwrite=True / --overwrite to regenerate)')
        return _summary(out_dir, reused=True)
    if osp.exists(out_dir):
        if not osp.isdir(out_dir):
            raise ValueError(f'{out_dir} exists and is not a folder; remove '
                             'it or choose another out_dir.')
        _check_replaceable(out_dir)
    need_cv2()
    parent = osp.dirname(osp.abspath(out_dir))
    blocker = parent
    while not osp.exists(blocker):
        blocker = osp.dirname(blocker)
    if not osp.isdir(blocker):
        raise ValueError(f'cannot create {out_dir}: {blocker} is a file, '
                         'not a folder; choose another out_dir.')
    os.makedirs(parent, exist_ok=True)
    tmp = f'{out_dir}.tmp-{os.getpid()}'
    old = f'{out_dir}.old-{os.getpid()}'
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        os.makedirs(osp.join(tmp, ANN_DIR))
        data = {}
        for (split, split_id), num in zip(SPLITS, (num_train, num_val)):
            data[split] = _write_split(tmp, split, split_id, num,
                                       image_size, seed)
            with open(_json_path(tmp, split), 'w') as f:
                json.dump(data[split], f, separators=(',', ':'))
                f.write('\n')
        if osp.exists(out_dir):
            os.rename(out_dir, old)
            try:
                os.rename(tmp, out_dir)
            except BaseException:
                os.rename(old, out_dir)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary = _summary(out_dir, reused=False, data=data)
    print(f'[synthetic_coco] wrote {out_dir}: '
          f"{summary['num_train_images']} train / "
          f"{summary['num_val_images']} val images, "
          f"{summary['num_train_annotations']} / "
          f"{summary['num_val_annotations']} objects")
    return summary
