"""Datasets: a deterministic synthetic COCO set for the demo and tests."""
from .synthetic_coco import (DEMO_CLASSES, check_coco_annotations,
                             generate_coco_dataset, is_complete_dataset)

__all__ = [
    'DEMO_CLASSES', 'generate_coco_dataset', 'check_coco_annotations',
    'is_complete_dataset'
]
