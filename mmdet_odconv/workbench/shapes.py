"""Drawing the demo images: shapes on cluttered backgrounds, and their masks.

Why the task is not trivial, and how occlusion decides what is annotated:
see ``synthetic_coco``, which writes these images as a COCO dataset. Every
image is drawn from its own generator (``rng_for``), so any image can be
regenerated alone.
"""
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np

try:  # reading and checking annotations works without OpenCV.
    import cv2
except ImportError:  # pragma: no cover - opencv is a runtime requirement
    cv2 = None

DEMO_CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star',
                                 'ring')

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


def need_cv2() -> None:
    """Fail clearly when OpenCV is missing (only drawing needs it)."""
    if cv2 is None:
        raise ImportError('generate_coco_dataset needs OpenCV: install '
                          'opencv-python (see requirements/pinned.txt).')


def rng_for(seed: int, split_id: int, index: int) -> np.random.Generator:
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


def _object_box(
        canvas: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canvas (a view, to paint in place) and the mask cut to the
    object's bounding box, and a colour that stands out there."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    box = canvas[y0:y1, x0:x1]
    m = mask[y0:y1, x0:x1]
    return box, m, _contrasting_colour(box[m].mean(axis=0), rng)


def _paint(canvas: np.ndarray, mask: np.ndarray,
           rng: np.random.Generator) -> None:
    """Paint one object (flat, shaded, striped or speckled; maybe outlined)."""
    box, m, colour = _object_box(canvas, mask, rng)
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
    need_cv2()
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
    need_cv2()
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
