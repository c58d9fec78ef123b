"""Evaluation helpers: opt-in faster COCO evaluation."""
from .fast_coco import FAST_COCO_ENV, use_faster_coco_eval

__all__ = ['use_faster_coco_eval', 'FAST_COCO_ENV']
