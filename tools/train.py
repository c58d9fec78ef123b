"""Train a detector: MMDetection's tools/train.py, with ODConv registered.

Arguments are MMDetection 3.x's. Examples:
  python tools/train.py configs/odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py
  bash tools/dist_train.sh CONFIG 8 [--amp] [--resume]
"""
import argparse
import importlib.util
import os
import os.path as osp
import runpy
import sys
from typing import List, Optional, Union

# faster-coco-eval must stand in for pycocotools before MMDetection is
# imported, and importing mmdet_odconv imports it: the switch's module
# (standard library only) runs alone first and reads the environment.
runpy.run_path(
    osp.join(
        osp.dirname(importlib.util.find_spec('mmdet_odconv').origin),
        'workbench', 'fast_coco.py'))['enable_if_requested']()

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmdet_odconv  # noqa: E402,F401  (registers ODConv, safe globals)
from mmdet_odconv.tools_support import (  # noqa: E402
    check_annotations, check_checkpoint, check_data, check_init_checkpoints,
    load_config, run_tool)
from mmdet_odconv.workbench import (adapt_dist_cfg_for_cpu,  # noqa: E402
                                    fast_coco, setup_runtime,
                                    use_saved_temperature)

LOADERS = ('train_dataloader', 'val_dataloader')
EVALUATORS = ('val_evaluator', )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (fp16 on GPU, '
        'bf16 on CPU)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR.')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='load a --resume/load_from checkpoint that does not fit the '
        'model (missing, unexpected or reshaped keys stay as initialised), '
        'e.g. to fine-tune on other classes; by default such a checkpoint '
        'is refused, naming the keys')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args) -> Config:
    """The config after command-line overrides, as MMDetection does it."""
    cfg = load_config(args.config, args.launcher, args.cfg_options,
                      args.work_dir)
    if args.amp:
        if torch.cuda.is_available():
            if cfg.optim_wrapper.get('type') != 'AmpOptimWrapper':
                cfg.optim_wrapper.type = 'AmpOptimWrapper'
                cfg.optim_wrapper.loss_scale = 'dynamic'
            # else: as MMDetection, the config's own AMP settings stay
        else:  # MMEngine's AMP needs a GPU; CPU autocast is bf16
            cfg.optim_wrapper.type = 'BF16AutocastOptimWrapper'
            for key in ('loss_scale', 'dtype', 'use_fsdp'):  # AMP-only
                cfg.optim_wrapper.pop(key, None)
    if args.auto_scale_lr:
        if ('auto_scale_lr' in cfg and 'enable' in cfg.auto_scale_lr
                and 'base_batch_size' in cfg.auto_scale_lr):
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('Can not find "auto_scale_lr" or '
                               '"auto_scale_lr.enable" or '
                               '"auto_scale_lr.base_batch_size" in your'
                               ' configuration file.')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.allow_partial_load:
        cfg.allow_partial_load = True
    return cfg


def check_inputs(cfg: Config) -> None:
    """Stop, with the fix, before anything is built if the data, its
    annotations, a pretrained backbone or the checkpoint to resume or load
    is missing or does not fit."""
    check_data(cfg, LOADERS, EVALUATORS)
    check_annotations(cfg, LOADERS, EVALUATORS)
    check_init_checkpoints(cfg)
    check_checkpoint(cfg)


def _main(argv=None) -> int:
    args = parse_args(argv)
    if fast_coco.requested():
        fast_coco.use_faster_coco_eval()  # raises if it came too late
    setup_runtime()
    cfg = adapt_dist_cfg_for_cpu(build_cfg(args))
    check_inputs(cfg)
    if cfg.get('resume'):
        # a resumed run continues at its saved temperature; a load_from
        # fine-tuning keeps the config's (detection: 1)
        use_saved_temperature(cfg)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.train()
    return 0


def main(argv: Optional[List[str]] = None) -> Union[int, str]:
    """Run the tool; return its exit status 0, or for bad input the
    message that ``sys.exit`` prints with exit status 1 (``run_tool``)."""
    return run_tool(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
