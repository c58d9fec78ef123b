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
import math
import os
import os.path as osp
import shutil
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..utils.data_check import check_coco_annotations, load_json

try:  # reading and checking annotations works without OpenCV.
    import cv2
except ImportError:  # pragma: no cover - opencv is a runtime requirement
    cv2 = None

__all__ = [
    'DEMO_CLASSES', 'generate_coco_dataset', 'check_coco_annotations',
    'mask_to_polygons', 'render_image'
]

DEMO_CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star',
                                 'ring')

# (folder, split id mixed into each image's seed).
SPLITS: Tuple[Tuple[str, int], ...] = (('train', 0), ('val', 1))
ANN_DIR = 'annotations'
# Object diameter range at the reference image size (scaled with the size).
REF_SIZE = 192
MIN_DIAMETER, MAX_DIAMETER = 12.0, 80.0
MAX_OBJECTS = 6
# Objects with fewer visible pixels (or a smaller visible fraction) after
# occlusion are not annotated; specks smaller than MIN_PART are dropped.
MIN_VISIBLE_PIXELS = 30
MIN_VISIBLE_FRACTION = 0.1
MIN_PART = 6
# A new object may hide at most this fraction of an earlier one.
MAX_HIDDEN = 0.6
_SHIFT = 4  # sub-pixel bits for cv2.fillPoly
_KNOWN_ENTRIES = {'train', 'val', ANN_DIR}


def _need_cv2() -> None:
    """Fail clearly when OpenCV is missing (only drawing needs it)."""
    if cv2 is None:
        raise ImportError('generate_coco_dataset needs OpenCV: install '
                          'opencv-python (see requirements/pinned.txt).')


def _rng_for(seed: int, split_id: int, index: int) -> np.random.Generator:
    """Own generator per image, so any image can be regenerated alone."""
    return np.random.default_rng([seed, split_id, index])


# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------
def _regular(n: int, radius: float, phase: float) -> np.ndarray:
    """Vertices of a regular n-gon centred at the origin."""
    t = phase + 2 * math.pi * np.arange(n) / n
    return radius * np.stack([np.cos(t), np.sin(t)], axis=1)


def _shape_outline(name: str, diameter: float, angle: float,
                   rng: np.random.Generator
                   ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Outer polygon (and hole polygon for rings) of a shape at the origin."""
    r = diameter / 2
    hole = None
    if name in ('circle', 'ring'):
        n = max(24, int(diameter * 1.5))
        # Slightly elliptic so the outline alone is not a perfect cue.
        aspect = rng.uniform(0.88, 1.0)
        pts = _regular(n, r, 0.0) * np.array([1.0, aspect])
        if name == 'ring':
            inner = rng.uniform(0.4, 0.7)
            hole = pts * inner
    elif name == 'square':
        pts = _regular(4, r * 0.78, math.pi / 4)
        pts = pts * np.array([1.0, rng.uniform(0.85, 1.0)])
    elif name == 'triangle':
        pts = _regular(3, r, -math.pi / 2)
        pts = pts + rng.normal(0, 0.05 * r, size=pts.shape)
    elif name == 'star':
        outer = _regular(5, r, -math.pi / 2)
        inner = _regular(5, r * rng.uniform(0.38, 0.6),
                         -math.pi / 2 + math.pi / 5)
        pts = np.stack([outer, inner], axis=1).reshape(-1, 2)
    else:
        raise ValueError(f'unknown shape {name!r}')
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    pts = pts @ rot.T
    if hole is not None:
        hole = hole @ rot.T
    return pts, hole


def _fill_mask(polys: Sequence[np.ndarray], shape: Tuple[int, int],
               center: Tuple[float, float]) -> np.ndarray:
    """Rasterise polygons (origin-centred, moved to ``center``) to a mask."""
    mask = np.zeros(shape, np.uint8)
    scale = 1 << _SHIFT
    # Pixel (i, j) has its centre at (j, i): shift by -0.5 for fillPoly.
    offset = np.asarray(center) - 0.5
    pts = [np.round((p + offset) * scale).astype(np.int32) for p in polys]
    cv2.fillPoly(mask, pts, 1, lineType=cv2.LINE_8, shift=_SHIFT)
    return mask.astype(bool)


def _shape_mask(name: str, center: Tuple[float, float], diameter: float,
                angle: float, shape: Tuple[int, int],
                rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of one shape in an image of ``shape``."""
    outer, hole = _shape_outline(name, diameter, angle, rng)
    mask = _fill_mask([outer], shape, center)
    if hole is not None:
        mask &= ~_fill_mask([hole], shape, center)
    return mask


# --------------------------------------------------------------------------
# Appearance
# --------------------------------------------------------------------------
def _random_colour(rng: np.random.Generator) -> np.ndarray:
    """A random BGR colour (float32, 0-255), class-independent."""
    hsv = np.array([[[rng.integers(0, 180), rng.integers(40, 256),
                      rng.integers(50, 256)]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def _ramp(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A linear ramp in [-1, 1] along a random direction."""
    t = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = math.cos(t) * xx + math.sin(t) * yy
    ramp -= ramp.min()
    return ramp / max(float(ramp.max()), 1e-6) * 2 - 1


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Gradient plus low-frequency texture plus optional stripes."""
    c0, c1 = _random_colour(rng), _random_colour(rng)
    t = (_ramp(h, w, rng)[..., None] + 1) / 2
    img = c0 * (1 - t) + c1 * t
    cells = int(rng.integers(3, 10))
    low = rng.normal(0, 1, size=(cells, cells, 3)).astype(np.float32)
    low = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    img += low * rng.uniform(8, 30)
    if rng.random() < 0.4:
        period = rng.uniform(4, 14)
        stripes = np.sin(_ramp(h, w, rng) * w / period)
        img += stripes[..., None] * rng.uniform(5, 18)
    return np.clip(img, 0, 255)


def _draw_clutter(img: np.ndarray, rng: np.random.Generator) -> None:
    """Unannotated distractors: lines, elongated stains, ragged blobs."""
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(1, 7))):
        p0 = tuple(int(v) for v in rng.integers(0, (w, h)))
        p1 = tuple(int(v) for v in rng.integers(0, (w, h)))
        colour = tuple(float(v) for v in _random_colour(rng))
        cv2.line(img, p0, p1, colour, int(rng.integers(1, 3)), cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 4))):
        layer = np.zeros((h, w), np.uint8)
        centre = tuple(int(v) for v in rng.integers(0, (w, h)))
        a = rng.uniform(0.05, 0.25) * w
        axes = (int(a), max(1, int(a * rng.uniform(0.15, 0.5))))
        if rng.random() < 0.5:
            cv2.ellipse(layer, centre, axes, rng.uniform(0, 180), 0, 360,
                        255, -1)
        else:  # ragged blob: many vertices, jittered radii
            n = int(rng.integers(9, 16))
            ang = np.sort(rng.uniform(0, 2 * math.pi, n))
            rad = a * rng.uniform(0.3, 1.0, n)
            pts = np.stack([np.cos(ang) * rad, np.sin(ang) * rad], 1)
            pts = np.round(pts + np.asarray(centre)).astype(np.int32)
            cv2.fillPoly(layer, [pts], 255)
        alpha = cv2.GaussianBlur(layer, (0, 0), rng.uniform(1.0, 3.0))
        alpha = (alpha.astype(np.float32) / 255 * rng.uniform(0.3, 0.7))
        colour = _random_colour(rng)
        img[:] = img * (1 - alpha[..., None]) + colour * alpha[..., None]


def _contrasting_colour(under: np.ndarray,
                        rng: np.random.Generator) -> np.ndarray:
    """A random colour far enough from the mean colour it is painted on."""
    best, best_d = None, -1.0
    for _ in range(8):
        colour = _random_colour(rng)
        d = float(np.linalg.norm(colour - under))
        if d > best_d:
            best, best_d = colour, d
        if d >= 70:
            break
    return best


def _paint(canvas: np.ndarray, mask: np.ndarray,
           rng: np.random.Generator) -> None:
    """Paint one object (flat, shaded, striped or speckled; maybe outlined)."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    box = canvas[y0:y1, x0:x1]
    m = mask[y0:y1, x0:x1]
    colour = _contrasting_colour(box[m].mean(axis=0), rng)
    bh, bw = m.shape
    fill = np.broadcast_to(colour, box.shape).copy()
    style = rng.choice(['flat', 'shaded', 'striped', 'speckled'])
    if style == 'shaded':
        fill *= 1 + _ramp(bh, bw, rng)[..., None] * rng.uniform(0.15, 0.4)
    elif style == 'striped':
        other = colour * rng.uniform(0.55, 0.85)
        period = rng.uniform(2.5, 7)
        on = np.sin(_ramp(bh, bw, rng) * max(bh, bw) / period) > 0
        fill[on] = other
    elif style == 'speckled':
        fill += rng.normal(0, 18, size=fill.shape).astype(np.float32)
    if rng.random() < 0.3 and min(bh, bw) > 8:
        inner = cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8))
        edge = m & ~inner.astype(bool)
        fill[edge] = colour * rng.uniform(0.3, 0.6)
    box[m] = fill[m]


# --------------------------------------------------------------------------
# Masks -> COCO annotations
# --------------------------------------------------------------------------
def _splice_hole(outer: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Join a hole to its outer contour by a zero-width cut (keyhole).

    COCO merges several polygons of one object by union, so a hole cannot
    be a polygon of its own; one polygon that walks around the hole through
    a cut keeps it under the even-odd fill pycocotools uses.
    """
    d = ((outer[:, None, :] - hole[None, :, :])**2).sum(-1)
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    return np.concatenate(
        [outer[:i + 1], hole[j:], hole[:j + 1], outer[i:]], axis=0)


def mask_to_polygons(mask: np.ndarray) -> List[List[float]]:
    """COCO polygons (x, y lists, holes kept as keyholes) of a binary mask.

    COCO's coordinates are continuous: pixel (i, j) covers [j, j+1) x
    [i, i+1). Contours through the centres of boundary pixels would cut half
    a pixel off all round (about 12% of a small object's area), so they are
    traced on the mask upsampled 2x, whose boundary runs a quarter pixel
    inside the true edge: pycocotools rasterises these polygons back to
    exactly the input mask.
    """
    _need_cv2()
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return []
    y0, x0 = int(ys.min()), int(xs.min())
    crop = np.pad(mask[y0:ys.max() + 1, x0:xs.max() + 1].astype(np.uint8),
                  1)
    crop = crop.repeat(2, axis=0).repeat(2, axis=1)
    contours, hierarchy = cv2.findContours(crop, cv2.RETR_CCOMP,
                                           cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    hierarchy = hierarchy[0]
    # Upsampled pixel centre (u + 0.5) / 2, minus the 1 px pad, plus origin.
    origin = np.array([x0, y0], np.float64) - 0.75
    polys = []
    for i, contour in enumerate(contours):
        if hierarchy[i][3] != -1:
            continue  # a hole: spliced into its parent below
        poly = contour.reshape(-1, 2)
        child = hierarchy[i][2]
        while child != -1:
            hole = contours[child].reshape(-1, 2)
            if len(hole) >= 3:
                poly = _splice_hole(poly, hole)
            child = hierarchy[child][0]
        if len(poly) < 3:
            continue
        polys.append((poly / 2 + origin).reshape(-1).tolist())
    return polys


def _drop_specks(mask: np.ndarray) -> np.ndarray:
    """Remove connected parts smaller than MIN_PART pixels."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= MIN_PART
    return keep[labels]


def _diameter_range(image_size: int) -> Tuple[float, float]:
    """Object diameters scaled from the 192 px reference."""
    s = image_size / REF_SIZE
    return max(8.0, MIN_DIAMETER * s), max(12.0, MAX_DIAMETER * s)


def render_image(rng: np.random.Generator, image_size: int,
                 num_classes: int = len(DEMO_CLASSES)
                 ) -> Tuple[np.ndarray, List[Tuple[int, np.ndarray]]]:
    """Draw one image; return it (BGR uint8) and (class index, visible mask).

    Only objects that stay visible enough are returned.
    """
    _need_cv2()
    h = w = image_size
    bg = _background(h, w, rng)
    _draw_clutter(bg, rng)
    canvas = bg.astype(np.float32)
    owner = np.full((h, w), -1, np.int32)  # top-most object per pixel
    objects: List[Tuple[int, int]] = []  # (class index, in-image area)
    dmin, dmax = _diameter_range(image_size)
    for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
        label = int(rng.integers(num_classes))
        for _try in range(10):
            diameter = float(math.exp(
                rng.uniform(math.log(dmin), math.log(dmax))))
            margin = 0.2 * diameter  # allow up to ~30% cut at the border
            centre = (rng.uniform(margin, w - margin),
                      rng.uniform(margin, h - margin))
            angle = rng.uniform(0, 2 * math.pi)
            mask = _shape_mask(DEMO_CLASSES[label], centre, diameter, angle,
                               (h, w), rng)
            area = int(mask.sum())
            if area < MIN_VISIBLE_PIXELS:
                continue
            if objects:
                visible = np.bincount(owner.ravel() + 1,
                                      minlength=len(objects) + 1)[1:]
                hidden = np.bincount(owner[mask] + 1,
                                     minlength=len(objects) + 1)[1:]
                if np.any(hidden > MAX_HIDDEN * np.maximum(visible, 1)):
                    continue
            _paint(canvas, mask, rng)
            owner[mask] = len(objects)
            objects.append((label, area))
            break
    if rng.random() < 0.5:
        canvas = cv2.GaussianBlur(canvas, (3, 3), rng.uniform(0.4, 0.8))
    canvas += rng.normal(0, rng.uniform(2, 10), canvas.shape).astype(
        np.float32)
    image = np.clip(np.round(canvas), 0, 255).astype(np.uint8)
    kept = []
    for k, (label, area) in enumerate(objects):
        visible = _drop_specks(owner == k)
        n = int(visible.sum())
        if n >= MIN_VISIBLE_PIXELS and n >= MIN_VISIBLE_FRACTION * area:
            kept.append((label, visible))
    return image, kept


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
        rng = _rng_for(seed, split_id, index)
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
    _need_cv2()
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
