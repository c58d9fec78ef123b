"""Opt-in ``faster-coco-eval`` in place of pycocotools.

COCO evaluation of the 5k val2017 images spends minutes in pycocotools'
Python loops; ``faster-coco-eval`` computes the same metrics in C++. It
must replace the ``pycocotools`` modules *before* MMDetection imports them
(``mmdet.datasets.api_wrappers`` binds their classes), and importing
``mmdet_odconv`` imports MMDetection. So ``tools/train.py`` and
``tools/test.py`` switch it on first thing, before any other import
(:func:`enable_if_requested`), when the environment asks for it:

    MMDET_ODCONV_FASTER_COCO_EVAL=1 python tools/test.py CONFIG CKPT

(``pip install faster-coco-eval``; ``make test`` installs it.) They then
call :func:`use_faster_coco_eval`, which confirms that it took. In a script
of your own, call ``faster_coco_eval.init_as_pycocotools()`` before
importing MMDetection.
"""
import os
import sys

FAST_COCO_ENV = 'MMDET_ODCONV_FASTER_COCO_EVAL'


def requested() -> bool:
    """Whether the environment variable asks for faster-coco-eval (the one
    place it is read)."""
    return os.environ.get(FAST_COCO_ENV, '').lower() in ('1', 'true', 'yes')


def enable_if_requested() -> bool:
    """Put faster-coco-eval in place of pycocotools if :func:`requested`.

    Must run before MMDetection is imported. This module needs only the
    standard library, so the tools run it alone (``runpy.run_path``)
    before importing ``mmdet_odconv``, which imports MMDetection.
    """
    if not requested():
        return False
    import faster_coco_eval
    faster_coco_eval.init_as_pycocotools()
    return True


def use_faster_coco_eval(strict: bool = True) -> bool:
    """Make ``import pycocotools...`` resolve to faster-coco-eval.

    Returns True when it is active. Raises RuntimeError (``strict``) if
    MMDetection already imported pycocotools, since it would keep the old
    classes, or ImportError if faster-coco-eval is not installed.
    """
    already = 'mmdet.datasets.api_wrappers.coco_api' in sys.modules
    import faster_coco_eval
    if already:
        from mmdet.datasets.api_wrappers import coco_api
        if coco_api._COCOeval.__module__.startswith('faster_coco_eval'):
            return True
        if strict:
            raise RuntimeError(
                'faster-coco-eval must be enabled before MMDetection is '
                f'imported: set {FAST_COCO_ENV}=1 for tools/train.py or '
                'tools/test.py, or call '
                'faster_coco_eval.init_as_pycocotools() first in your script')
        return False
    faster_coco_eval.init_as_pycocotools()
    return True
