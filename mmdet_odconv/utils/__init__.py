"""What our tools share: config loading and detector building
(``config``), checks that stop a tool early with the fix (``data_check``:
dataset files and COCO annotations; ``checkpoint_check``: checkpoints that
do not fit, missing pretrained files), safe checkpoint loading
(``safe_load``), CPU distributed set-up (``dist_cpu``), runtime tuning
(``runtime``) and FLOP counting (``complexity``)."""
from .checkpoint_check import (CheckpointError, check_checkpoint,
                               check_init_checkpoints, load_checkpoint_into)
from .config import build_detector, load_config
from .data_check import (check_annotations, check_coco_annotations,
                         check_data, missing_data)
from .dist_cpu import adapt_dist_cfg_for_cpu
from .runtime import setup_runtime, tune_cpu_allocator
from .safe_load import register_safe_globals, safe_torch_load

__all__ = [
    'register_safe_globals', 'safe_torch_load', 'check_data', 'missing_data',
    'check_annotations', 'check_coco_annotations', 'check_checkpoint',
    'check_init_checkpoints', 'load_checkpoint_into', 'CheckpointError',
    'adapt_dist_cfg_for_cpu', 'setup_runtime', 'load_config',
    'build_detector', 'tune_cpu_allocator'
]
