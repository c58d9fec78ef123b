"""Checkpoint conversion from the official ODConv code to MMDetection 3."""
from .files import (check_destination, check_not_an_input, check_source,
                    same_file, save_atomic)
from .official import (convert_backbone, convert_detector,
                       convert_official_checkpoint, detector_meta, is_detector,
                       load_official)

__all__ = [
    'check_destination', 'check_not_an_input', 'check_source', 'same_file',
    'save_atomic', 'convert_backbone',
    'convert_detector', 'convert_official_checkpoint', 'detector_meta',
    'is_detector', 'load_official'
]
