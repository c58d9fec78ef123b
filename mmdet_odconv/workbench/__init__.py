"""The workbench: what runs and checks trainings on CPUs and in tests.

None of it is part of ODConv, and ``import mmdet_odconv`` does not import
it: our tools import it, and so do the demo configs (``custom_imports``),
which registers the hooks and the optimizer wrapper below.

- ``synthetic_coco``: the generated shapes dataset of the demo and tests
  (``shapes`` draws its images);
- ``dist_cpu``: DDP without CUDA (gloo, CPU DDP) for ``--launcher pytorch``;
- ``optim_wrapper``: ``BF16AutocastOptimWrapper``, ``--amp`` on a CPU;
- ``rng_state_hook``: ``RNGStateHook``, the torch RNG in checkpoints, so a
  resumed iteration-based run continues bit for bit;
- ``ddp_check_hook``: ``DDPConsistencyHook``, ranks hold equal parameters;
- ``saved_temperature_hook``: ``SavedTemperatureHook``, a loaded
  checkpoint's saved ODConv temperature applied to the runner's model;
- ``runtime``: denormal flushing and glibc allocator tuning for CPUs;
- ``fast_coco``: opt-in faster-coco-eval in place of pycocotools;
- ``shapes_cls`` and ``classification``: the generated classification set
  and the classifier, dataset and metric that pretrain backbones on it.
"""
from .ddp_check_hook import DDPConsistencyHook
from .dist_cpu import adapt_dist_cfg_for_cpu
from .fast_coco import FAST_COCO_ENV, use_faster_coco_eval
from .optim_wrapper import BF16AutocastOptimWrapper
from .rng_state_hook import RNGStateHook
from .runtime import flush_denormals, setup_runtime, tune_cpu_allocator
from .saved_temperature_hook import (SavedTemperatureHook,
                                     use_saved_temperature)
from .synthetic_coco import (DEMO_CLASSES, generate_coco_dataset,
                             is_complete_dataset)
from .shapes_cls import (CLS_CLASSES, generate_shapes_cls,
                         is_complete_shapes_cls, load_shapes_cls)
from .classification import (BackboneClassifier, ShapesClsDataset,
                             TopKAccuracy, backbone_fit, save_backbone)

__all__ = [
    'DEMO_CLASSES', 'generate_coco_dataset', 'is_complete_dataset',
    'adapt_dist_cfg_for_cpu', 'BF16AutocastOptimWrapper', 'RNGStateHook',
    'DDPConsistencyHook', 'setup_runtime', 'flush_denormals',
    'tune_cpu_allocator', 'use_faster_coco_eval', 'FAST_COCO_ENV',
    'SavedTemperatureHook', 'use_saved_temperature', 'CLS_CLASSES',
    'generate_shapes_cls', 'is_complete_shapes_cls', 'load_shapes_cls',
    'BackboneClassifier', 'ShapesClsDataset', 'TopKAccuracy',
    'backbone_fit', 'save_backbone'
]
