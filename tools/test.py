"""Test (and evaluate) a detector: MMDetection's tools/test.py, with ODConv.

Arguments are MMDetection 3.x's. Example:
  python tools/test.py CONFIG CHECKPOINT [--out results.pkl] [--show-dir vis]
"""
import argparse
import importlib.util
import os
import os.path as osp
import runpy
import sys
import warnings
from copy import deepcopy
from typing import List, Optional, Union

# faster-coco-eval must stand in for pycocotools before MMDetection is
# imported, and importing mmdet_odconv imports it: the switch's module
# (standard library only) runs alone first and reads the environment.
runpy.run_path(
    osp.join(
        osp.dirname(importlib.util.find_spec('mmdet_odconv').origin),
        'workbench', 'fast_coco.py'))['enable_if_requested']()

from mmengine import ConfigDict  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmdet_odconv  # noqa: E402,F401  (registers ODConv, safe globals)
from mmdet_odconv.checkpoints import (check_not_an_input,  # noqa: E402
                                      is_remote)
from mmdet_odconv.tools_support import (  # noqa: E402
    CheckpointNotFoundError, PreflightError, check_annotations,
    check_checkpoint, check_data, load_config, run_tool)
from mmdet_odconv.workbench import (adapt_dist_cfg_for_cpu,  # noqa: E402
                                    fast_coco, setup_runtime,
                                    use_saved_temperature)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='MMDet test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='evaluate even if the checkpoint does not fit the model '
        '(missing, unexpected or reshaped keys stay random); by default '
        'such a checkpoint is refused, naming the keys')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--tta', action='store_true')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _add_tta(cfg: Config) -> Config:
    """Flip test-time augmentation, as MMDetection's --tta."""
    if 'tta_model' not in cfg:
        warnings.warn('Cannot find ``tta_model`` in config, '
                      'we will set it as default.')
        cfg.tta_model = dict(
            type='DetTTAModel',
            tta_cfg=dict(
                nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
    if 'tta_pipeline' not in cfg:
        test_data_cfg = cfg.test_dataloader.dataset
        while 'dataset' in test_data_cfg:
            test_data_cfg = test_data_cfg['dataset']
        cfg.tta_pipeline = deepcopy(test_data_cfg.pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[
                dict(type='RandomFlip', prob=1.),
                dict(type='RandomFlip', prob=0.)
            ],
                        [
                            dict(
                                type='PackDetInputs',
                                meta_keys=('img_id', 'img_path', 'ori_shape',
                                           'img_shape', 'scale_factor',
                                           'flip', 'flip_direction'))
                        ]])
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    return cfg


def _check_out(path: str, inputs=()) -> None:
    """--out must be a .pkl file we can write (checked before testing, so
    hours of evaluation are not lost at the end), none of ``inputs``
    (``(what, path)`` pairs: the files the test reads)."""
    try:
        check_not_an_input(path, inputs)
    except ValueError as e:
        raise PreflightError(f'--out {e}') from e
    if not path.endswith(('.pkl', '.pickle')):
        raise PreflightError(f'--out must name a .pkl file, got {path}')
    if osp.isdir(path):
        raise PreflightError(f'--out {path} is a folder; give a file name')
    folder = osp.dirname(osp.abspath(path))
    while not osp.exists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder) or not os.access(folder, os.W_OK):
        raise PreflightError(f'--out {path} cannot be written: {folder} '
                             'is not a writable folder')


def _main(argv=None):
    args = parse_args(argv)
    if fast_coco.requested():
        fast_coco.use_faster_coco_eval()  # raises if it came too late
    setup_runtime()
    from mmdet.engine.hooks.utils import trigger_visualization_hook
    from mmdet.evaluation import DumpDetResults

    cfg = load_config(args.config, args.launcher, args.cfg_options,
                      args.work_dir)
    # URLs and other MMEngine schemes (https://, s3://, open-mmlab://, ...)
    # are fetched by MMEngine; only local paths can be checked here.
    if not is_remote(args.checkpoint) and not osp.isfile(args.checkpoint):
        raise CheckpointNotFoundError(
            f'checkpoint not found: {args.checkpoint}')
    cfg.load_from = args.checkpoint
    adapt_dist_cfg_for_cpu(cfg)
    if args.out is not None:
        _check_out(args.out, [('checkpoint', args.checkpoint),
                              ('config', args.config)])
    check_data(cfg, ['test_dataloader'], ['test_evaluator'])
    check_annotations(cfg, ['test_dataloader'], ['test_evaluator'])
    if args.allow_partial_load:
        cfg.allow_partial_load = True
    check_checkpoint(cfg, args.checkpoint)
    use_saved_temperature(cfg)
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        cfg = _add_tta(cfg)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpDetResults(out_file_path=args.out))
    return runner.test()


def main(argv: Optional[List[str]] = None) -> Union[dict, str]:
    """Run the tool; return the test metrics, or for bad input the message
    that ``sys.exit`` prints with exit status 1 (``run_tool``)."""
    return run_tool(_main, argv)


if __name__ == '__main__':
    # the metrics are logged; the shell gets 0, or the message and 1
    result = main()
    sys.exit(result if isinstance(result, str) else 0)
