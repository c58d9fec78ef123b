"""Moved: the faster-coco-eval switch is ``mmdet_odconv.workbench.fast_coco``.

A re-export until the package's ``__init__`` no longer needs it.
"""
from ..workbench.fast_coco import (FAST_COCO_ENV,  # noqa: F401
                                   use_faster_coco_eval)
