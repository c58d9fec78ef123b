"""Moved: the demo dataset is ``mmdet_odconv.workbench.synthetic_coco``.

A re-export until tests/conftest.py imports from the workbench.
"""
from ..workbench.synthetic_coco import (DEMO_CLASSES,  # noqa: F401
                                        generate_coco_dataset,
                                        is_complete_dataset)
