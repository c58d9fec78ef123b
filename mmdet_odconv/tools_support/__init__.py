"""What our command-line tools need beside the method: their pre-flight
checks and config helpers.

A user of the layer never imports this; ``import mmdet_odconv`` does not
load it. The tools (``tools/*.py``) do:

- ``config``: config loading with the tools' command-line overrides, and
  ``build_detector``, the one helper that builds a detector from a config
  and ``--cfg-options`` (and loads a checkpoint that must fit);
- ``data_check``: dataset files present (local ones), COCO annotation
  files complete, checked once per job without loading them whole;
- ``checkpoint_check``: the checkpoint a runner will load fits the config,
  local ``init_cfg`` files exist;
- ``errors``: what the checks raise (``INPUT_ERRORS``), and ``run_tool``,
  through which a tool's main turns them into its message and exit
  status.
"""
from .checkpoint_check import (ALLOW_PARTIAL_KEY, PARTIAL_HINT,
                               check_checkpoint, check_init_checkpoints,
                               checkpoint_to_load, missing_init_checkpoints)
from .config import build_detector, load_config
from .data_check import (check_annotations, check_coco_annotations,
                         check_coco_file, check_data, missing_data)
from .errors import (INPUT_ERRORS, AnnotationFileError,
                     CheckpointNotFoundError, DataNotFoundError,
                     LauncherError, PreflightError, PretrainedNotFoundError,
                     run_tool)

__all__ = [
    'load_config', 'build_detector', 'check_data', 'missing_data',
    'check_annotations', 'check_coco_annotations', 'check_coco_file',
    'check_checkpoint', 'checkpoint_to_load', 'check_init_checkpoints',
    'missing_init_checkpoints', 'ALLOW_PARTIAL_KEY', 'PARTIAL_HINT',
    'PreflightError', 'DataNotFoundError', 'AnnotationFileError',
    'CheckpointNotFoundError', 'PretrainedNotFoundError', 'LauncherError',
    'INPUT_ERRORS', 'run_tool'
]
