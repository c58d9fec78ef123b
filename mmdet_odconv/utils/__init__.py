"""What our user-facing tools share.

- ``config``: config loading with the tools' command-line overrides, and
  ``build_detector``, the one helper that builds a detector from a config
  and ``--cfg-options`` (and loads a checkpoint that must fit);
- ``data_check``: dataset files present, COCO annotation files complete;
- ``checkpoint_check``: checkpoints that do not fit the config, missing
  pretrained (``init_cfg``) files, found before anything is built;
- ``safe_load``: ``weights_only`` checkpoint loading with MMEngine's
  allow-list, and files that are not checkpoints named as such.
"""
from .checkpoint_check import (CheckpointError, check_checkpoint,
                               check_init_checkpoints, load_checkpoint_into)
from .config import build_detector, load_config
from .data_check import (check_annotations, check_coco_annotations,
                         check_data, missing_data)
from .safe_load import register_safe_globals, safe_torch_load

__all__ = [
    'load_config', 'build_detector', 'check_data', 'missing_data',
    'check_annotations', 'check_coco_annotations', 'check_checkpoint',
    'check_init_checkpoints', 'load_checkpoint_into', 'CheckpointError',
    'register_safe_globals', 'safe_torch_load'
]
