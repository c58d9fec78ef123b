"""A small generated image-classification set that plays ImageNet's role.

Why: ODConv's detection gains come from backbones pretrained on ImageNet
and fine-tuned on COCO. The pretrain -> fine-tune study
(``tools/analysis_tools/pretrain_finetune_study.py``) repeats that pipeline
in miniature on CPUs, and needs a classification set that is offline,
cheap to generate and to load, and hard enough that a small ResNet does not
saturate it in a short training.

A class is a shape family crossed with a fill texture (10 x 6 = 60
classes, e.g. ``striped_star``). Neither alone decides the class, and the
rest is nuisance: random colours, sizes, rotations and aspect jitter,
noisy gradient backgrounds with the demo's clutter, and smaller distractor
shapes of other classes behind and in front of the object (hiding at most
``MAX_HIDDEN`` of it). Some pairs are hard at small sizes on purpose
(circle, hexagon, pentagon; dotted, checkered).

Storage: one folder with ``{split}_images.npy`` (``N x H x W x 3`` uint8,
BGR as OpenCV and MMDetection load images), ``{split}_labels.npy`` (int64),
``classes.txt`` and ``meta.json`` (the recipe). It is written into a
temporary sibling folder and renamed into place when complete, so nothing
half-written is ever left under the final name. Image ``i`` of a split is
drawn from its own generator seeded with ``(seed, split, i)``, and its
label is ``i % num_classes``: classes are balanced and the bytes are the
same on every run.
"""
import json
import math
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Tuple

import numpy as np

from .shapes import (_background, _contrasting_colour, _draw_clutter,
                     _fill_mask, _object_box, _ramp, _regular, cv2,
                     need_cv2)

__all__ = [
    'SHAPE_FAMILIES', 'TEXTURES', 'CLS_CLASSES', 'generate_shapes_cls',
    'is_complete_shapes_cls', 'load_shapes_cls', 'read_classes',
    'render_cls_image', 'export_image_folder'
]

SHAPE_FAMILIES: Tuple[str, ...] = ('circle', 'ring', 'ellipse', 'triangle',
                                   'square', 'pentagon', 'hexagon', 'star',
                                   'cross', 'crescent')
TEXTURES: Tuple[str, ...] = ('flat', 'striped', 'checkered', 'dotted',
                             'concentric', 'outlined')
CLS_CLASSES: Tuple[str, ...] = tuple(f'{t}_{s}' for s in SHAPE_FAMILIES
                                     for t in TEXTURES)

SPLITS: Tuple[str, ...] = ('train', 'val')
FORMAT_VERSION = 2  # the drawing changes with it
# Mixed into every image's seed so that these images never share a random
# stream with the detection demo's (which seeds with (seed, split, i)).
_STREAM = 0x5C1A55
REF_SIZE = 64
# Object diameter at the reference size (scaled with the image size).
MIN_DIAMETER, MAX_DIAMETER = 28.0, 60.0
# Texture period range in pixels at the reference size.
MIN_PERIOD, MAX_PERIOD = 3.0, 7.0
MAX_DISTRACTORS = 2
# A distractor in front may hide at most this fraction of the object.
MAX_HIDDEN = 0.25
_META = 'meta.json'
_CLASSES = 'classes.txt'


# --------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------
def _outline(family: str, diameter: float, angle: float,
             rng: np.random.Generator
             ) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """Filled and hole polygons of a shape centred at the origin."""
    r = diameter / 2
    holes: List[np.ndarray] = []
    if family in ('circle', 'ring', 'ellipse', 'crescent'):
        n = max(20, int(diameter * 1.2))
        lo, hi = (0.4, 0.65) if family == 'ellipse' else (0.9, 1.0)
        pts = _regular(n, r, 0.0) * np.array([1.0, rng.uniform(lo, hi)])
        if family == 'ring':
            holes = [pts * rng.uniform(0.45, 0.65)]
        elif family == 'crescent':  # a bite out of the disc's side
            bite = _regular(n, r * rng.uniform(0.75, 0.9), 0.0)
            holes = [bite + np.array([r * rng.uniform(0.35, 0.55), 0.0])]
    elif family in ('triangle', 'square', 'pentagon', 'hexagon'):
        n = ('triangle', 'square', 'pentagon', 'hexagon').index(family) + 3
        pts = _regular(n, r * (0.82 if n == 4 else 1.0), 0.0)
        pts = pts + rng.normal(0, 0.03 * r, size=pts.shape)
    elif family == 'star':
        outer = _regular(5, r, 0.0)
        inner = _regular(5, r * rng.uniform(0.38, 0.55), math.pi / 5)
        pts = np.stack([outer, inner], axis=1).reshape(-1, 2)
    elif family == 'cross':
        a, b = r, r * rng.uniform(0.28, 0.4)
        pts = np.array([[b, a], [b, b], [a, b], [a, -b], [b, -b], [b, -a],
                        [-b, -a], [-b, -b], [-a, -b], [-a, b], [-b, b],
                        [-b, a]])
    else:
        raise ValueError(f'unknown shape family {family!r}')
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return [pts @ rot.T], [h @ rot.T for h in holes]


def _shape_mask(family: str, centre: Tuple[float, float], diameter: float,
                size: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of one randomly rotated shape in a ``size`` image."""
    polys, holes = _outline(family, diameter, rng.uniform(0, 2 * math.pi),
                            rng)
    mask = _fill_mask(polys, (size, size), centre)
    for hole in holes:
        mask &= ~_fill_mask([hole], (size, size), centre)
    return mask


def _texture(texture: str, box: Tuple[int, int], period: float,
             rng: np.random.Generator) -> np.ndarray:
    """Where the second colour goes, over a ``box`` of (h, w) pixels."""
    h, w = box
    if texture in ('flat', 'outlined'):
        return np.zeros(box, bool)
    t = rng.uniform(0, math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = math.cos(t) * xx + math.sin(t) * yy + rng.uniform(0, period)
    v = -math.sin(t) * xx + math.cos(t) * yy + rng.uniform(0, period)
    k = 2 * math.pi / period
    if texture == 'striped':
        return np.sin(u * k) > 0
    if texture == 'checkered':
        return (np.sin(u * k) > 0) ^ (np.sin(v * k) > 0)
    if texture == 'dotted':
        du, dv = np.mod(u, period) - period / 2, np.mod(v, period) - period / 2
        return du * du + dv * dv < (period * 0.3)**2
    if texture == 'concentric':
        d = np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2)
        return np.sin(d * k) > 0
    raise ValueError(f'unknown texture {texture!r}')


def _paint(canvas: np.ndarray, mask: np.ndarray, texture: str, period: float,
           rng: np.random.Generator) -> None:
    """Paint one textured, lightly shaded object into ``canvas``."""
    box, m, colour = _object_box(canvas, mask, rng)
    if texture == 'outlined':  # a border only; the inside stays as it is
        width = int(rng.integers(1, 3))
        inner = cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8),
                          iterations=width).astype(bool)
        m = m & ~inner
    fill = np.broadcast_to(colour, box.shape).copy()
    second = _texture(texture, m.shape, period, rng)
    if second.any():
        fill[second] = _contrasting_colour(colour, rng)
    shade = _ramp(*m.shape, rng)[..., None] * rng.uniform(0.0, 0.25)
    box[m] = (fill * (1 + shade))[m]


def render_cls_image(label: int, size: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Draw one image of class ``CLS_CLASSES[label]`` (BGR uint8)."""
    need_cv2()
    s = size / REF_SIZE
    family = SHAPE_FAMILIES[label // len(TEXTURES)]
    texture = TEXTURES[label % len(TEXTURES)]
    canvas = _background(size, size, rng)
    _draw_clutter(canvas, rng)
    diameter = rng.uniform(MIN_DIAMETER, MAX_DIAMETER) * s
    margin = diameter * 0.35  # the object may be cut a little at the edge
    centre = tuple(rng.uniform(margin, size - margin, 2))
    n_dis = int(rng.integers(0, MAX_DISTRACTORS + 1))
    n_behind = int(rng.integers(0, n_dis + 1))
    obj = None
    for i in range(n_dis + 1):
        if i == n_behind:  # the object itself
            obj = _shape_mask(family, centre, diameter, size, rng)
            _paint(canvas, obj, texture,
                   rng.uniform(MIN_PERIOD, MAX_PERIOD) * s, rng)
            continue
        other = int(rng.integers(len(CLS_CLASSES) - 1))
        other += other >= label  # any class but the object's
        d = diameter * rng.uniform(0.25, 0.5)
        for _try in range(4):
            mask = _shape_mask(SHAPE_FAMILIES[other // len(TEXTURES)],
                               tuple(rng.uniform(0, size, 2)), d, size, rng)
            if mask.sum() < 8:
                continue
            if obj is None or (mask & obj).sum() <= MAX_HIDDEN * obj.sum():
                _paint(canvas, mask, TEXTURES[other % len(TEXTURES)],
                       rng.uniform(MIN_PERIOD, MAX_PERIOD) * s, rng)
                break
    if rng.random() < 0.5:
        canvas = cv2.GaussianBlur(canvas, (3, 3), rng.uniform(0.3, 0.7))
    canvas += rng.normal(0, rng.uniform(2, 8), canvas.shape).astype(
        np.float32)
    return np.clip(np.round(canvas), 0, 255).astype(np.uint8)


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of one image: any image can be redrawn alone."""
    return np.random.default_rng([_STREAM, seed, SPLITS.index(split), index])


def _draw_split(split: str, per_class: int, size: int,
                seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Images and labels of a split, ``per_class`` images of each class."""
    n = per_class * len(CLS_CLASSES)
    images = np.empty((n, size, size, 3), np.uint8)
    labels = np.arange(n, dtype=np.int64) % len(CLS_CLASSES)
    for i in range(n):
        images[i] = render_cls_image(int(labels[i]), size,
                                     _rng(seed, split, i))
    return images, labels


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------
def _files(split: str) -> Tuple[str, str]:
    return f'{split}_images.npy', f'{split}_labels.npy'


def is_complete_shapes_cls(root: str) -> bool:
    """Whether ``root`` holds a complete set written by this generator."""
    names = [_META, _CLASSES] + [f for s in SPLITS for f in _files(s)]
    return all(osp.isfile(osp.join(root, f)) for f in names)


def _read_meta(root: str) -> dict:
    with open(osp.join(root, _META)) as f:
        return json.load(f)


def read_classes(root: str) -> List[str]:
    """The class names of a generated set, in label order."""
    with open(osp.join(root, _CLASSES)) as f:
        return [line.rstrip('\n') for line in f if line.strip()]


def load_shapes_cls(root: str, split: str,
                    mmap: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Images (``N x H x W x 3`` uint8, BGR) and labels of a split.

    ``mmap`` maps the images instead of reading them, so data-loader
    workers share the page cache rather than each holding a copy.
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    if not is_complete_shapes_cls(root):
        raise FileNotFoundError(
            f'no complete shapes classification set in {root}; generate it '
            'with mmdet_odconv.workbench.generate_shapes_cls (the study tool '
            'does so when it is missing)')
    img_file, label_file = _files(split)
    images = np.load(osp.join(root, img_file), mmap_mode='r' if mmap else None)
    labels = np.load(osp.join(root, label_file))
    if len(images) != len(labels):
        raise ValueError(f'{root}: {len(images)} {split} images but '
                         f'{len(labels)} labels')
    return images, labels


def _recipe(train_per_class: int, val_per_class: int, image_size: int,
            seed: int) -> dict:
    return dict(version=FORMAT_VERSION, num_classes=len(CLS_CLASSES),
                train_per_class=train_per_class,
                val_per_class=val_per_class, image_size=image_size,
                seed=seed, channel_order='bgr')


def generate_shapes_cls(root: str,
                        train_per_class: int = 300,
                        val_per_class: int = 50,
                        image_size: int = 64,
                        seed: int = 0,
                        overwrite: bool = False) -> Dict[str, object]:
    """Write the classification set to ``root`` (atomically).

    A complete set already there is reused if it was generated with the
    same arguments (``ValueError`` otherwise, unless ``overwrite``).
    Returns the recipe (as in ``meta.json``) plus ``root``, ``classes`` and
    ``reused``.
    """
    if train_per_class < 1 or val_per_class < 1:
        raise ValueError('train_per_class and val_per_class must be >= 1, '
                         f'got {train_per_class} and {val_per_class}')
    if image_size < 16:
        raise ValueError(f'image_size must be >= 16, got {image_size}')
    if seed < 0:
        raise ValueError(f'seed must be >= 0, got {seed}')
    root = osp.normpath(root)
    recipe = _recipe(train_per_class, val_per_class, image_size, seed)
    summary = dict(recipe, root=root, classes=CLS_CLASSES)
    if is_complete_shapes_cls(root) and not overwrite:
        have = _read_meta(root)
        if have != recipe:
            diffs = [f'{k}: {have.get(k)} there, {v} asked'
                     for k, v in recipe.items() if have.get(k) != v]
            raise ValueError(
                f'{root} holds a set generated with other arguments '
                f'({"; ".join(diffs)}); pass overwrite=True to regenerate '
                'it, or choose another folder.')
        return dict(summary, reused=True)
    if osp.exists(root):
        known = {_META, _CLASSES} | {f for s in SPLITS for f in _files(s)}
        extra = set(os.listdir(root)) - known if osp.isdir(root) else {root}
        if extra:
            raise ValueError(
                f'{root} exists and holds {sorted(extra)[:5]}, which this '
                'generator did not write; refusing to replace it.')
    need_cv2()
    os.makedirs(osp.dirname(osp.abspath(root)), exist_ok=True)
    tmp, old = f'{root}.tmp-{os.getpid()}', f'{root}.old-{os.getpid()}'
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        os.makedirs(tmp)
        per_class = dict(train=train_per_class, val=val_per_class)
        for split in SPLITS:
            images, labels = _draw_split(split, per_class[split], image_size,
                                         seed)
            img_file, label_file = _files(split)
            np.save(osp.join(tmp, img_file), images)
            np.save(osp.join(tmp, label_file), labels)
        with open(osp.join(tmp, _CLASSES), 'w') as f:
            f.write('\n'.join(CLS_CLASSES) + '\n')
        with open(osp.join(tmp, _META), 'w') as f:
            json.dump(recipe, f, indent=1, sort_keys=True)
        if osp.exists(root):
            os.rename(root, old)
            os.rename(tmp, root)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if osp.exists(old) and not osp.exists(root):
            os.rename(old, root)
        raise
    return dict(summary, reused=False)


def export_image_folder(root: str, out_dir: str,
                        split: Optional[str] = None) -> int:
    """Write a set as ImageNet-style folders (``out_dir/split/class/*.png``)
    for tools that read image folders; returns the number of images."""
    need_cv2()
    classes = read_classes(root)
    count = 0
    for sp in (split, ) if split else SPLITS:
        images, labels = load_shapes_cls(root, sp)
        for i, (img, label) in enumerate(zip(images, labels)):
            folder = osp.join(out_dir, sp, classes[int(label)])
            os.makedirs(folder, exist_ok=True)
            cv2.imwrite(osp.join(folder, f'{i:06d}.png'), np.asarray(img))
            count += 1
    return count
