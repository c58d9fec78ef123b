"""Checkpoints: safe loading, whether one fits a model, official ones.

- ``safe_load``: ``weights_only`` loading with MMEngine's allow-list, and
  files that are not checkpoints named as such;
- ``fit``: the one comparison of a state dict with a model (each layer's
  own loading included) and the one diagnosis of a misfit, for the tools'
  checks and the converter alike; the temperature a checkpoint was saved
  at;
- ``official``: the official ODConv ImageNet and COCO checkpoints ->
  ours (backbones, detectors, MMPretrain classifiers), checked strictly;
- ``files``: remote paths, checked output paths (never an input) and
  atomic writes.
"""
from .files import (check_destination, check_not_an_input, is_remote,
                    save_atomic)
from .fit import (CheckpointError, StateDictDiff, apply_saved_temperature,
                  compare_state_dict, likely_causes, load_checkpoint_file,
                  load_checkpoint_into, mismatch_message)
from .official import (convert_backbone, convert_classifier,
                       convert_detector, convert_official_checkpoint,
                       detector_meta, is_classifier, is_detector,
                       load_official)
from .safe_load import register_safe_globals, safe_torch_load

__all__ = [
    'safe_torch_load', 'register_safe_globals', 'CheckpointError',
    'StateDictDiff', 'compare_state_dict', 'likely_causes',
    'mismatch_message', 'load_checkpoint_file', 'load_checkpoint_into',
    'apply_saved_temperature', 'check_destination', 'check_not_an_input',
    'is_remote', 'save_atomic', 'convert_backbone', 'convert_classifier',
    'convert_detector', 'convert_official_checkpoint', 'detector_meta',
    'is_classifier', 'is_detector', 'load_official'
]
