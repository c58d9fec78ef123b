"""The embedded demo: data -> train an ODConv Faster R-CNN -> COCO box AP.

  python tools/demo.py [--config CONFIG] [--work-dir DIR] [--data DIR]

Generates the shapes dataset if missing, trains from scratch on the CPU,
evaluates with pycocotools, prints the box AP table and writes a few images
with predicted boxes. ``make demo`` runs it with the defaults.
"""
import argparse
import os.path as osp
import sys
import time
from typing import List, Optional, Union

from mmengine.config import DictAction

from mmdet_odconv.checkpoints import check_not_an_input
from mmdet_odconv.tools_support import PreflightError, run_tool
from mmdet_odconv.workbench.synthetic_coco import DEFAULT_DIR

DEFAULT_CONFIG = ('configs/demo/'
                  'faster-rcnn_r18-odconv4x-attn-zero-init_fpn_demo.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s',
           'bbox_mAP_m', 'bbox_mAP_l')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--work-dir', default=None,
                   help='default: work_dirs/demo/<config name>')
    p.add_argument('--data', default=DEFAULT_DIR,
                   help='dataset folder (generated if missing)')
    p.add_argument('--num-vis', type=int, default=4,
                   help='val images to draw predictions on')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='key=value overrides, as in tools/train.py')
    p.add_argument('--allow-partial-load', action='store_true',
                   help='accept a load_from checkpoint that does not fit '
                   'the model, as tools/train.py')
    return p.parse_args(argv)


def build_runner(config: str,
                 work_dir: str,
                 data: str,
                 cfg_options: Optional[dict] = None,
                 allow_partial_load: bool = False):
    """The MMEngine runner that trains ``config`` on the demo data.

    Generates the data at ``data`` unless a complete dataset is there.
    ``cfg_options`` is the parsed ``--cfg-options`` dict (as DictAction
    gives it); the data paths below override any it sets. Broken
    annotation files, missing pretrained files and a ``load_from``
    checkpoint that does not fit stop it before anything is built, with
    the errors of ``mmdet_odconv.tools_support``.
    """
    from mmengine.runner import Runner

    import mmdet_odconv  # noqa: F401
    from mmdet_odconv.tools_support import (check_annotations,
                                            check_checkpoint,
                                            check_init_checkpoints,
                                            load_config)
    from mmdet_odconv.workbench import (generate_coco_dataset,
                                        is_complete_dataset, setup_runtime,
                                        use_saved_temperature)

    setup_runtime()

    if not is_complete_dataset(data):  # any complete dataset there is used
        generate_coco_dataset(data)
    cfg = load_config(config, cfg_options=cfg_options, work_dir=work_dir)
    if cfg.get('visualizer') is not None:
        # MMEngine builds visualizers by name as process-wide singletons: a
        # second training in this process (benchmarks/demo_ap_table.py)
        # would log its scalars into the first one's work dir.
        cfg.visualizer.name = f'demo_{osp.basename(work_dir)}_{time.time_ns()}'
    data_root = data.rstrip('/') + '/'
    for loader in LOADERS:
        cfg[loader].dataset.data_root = data_root
    for ev in ('val_evaluator', 'test_evaluator'):
        cfg[ev].ann_file = data_root + 'annotations/instances_val.json'
    # evaluate once, after training, instead of inside the train loop
    # (MMEngine's iteration loop also validates at its last iteration
    # whatever the interval, unless validation begins after it)
    cfg.train_cfg.val_interval = cfg.train_cfg.max_iters + 1
    cfg.train_cfg.val_begin = cfg.train_cfg.max_iters + 1
    if allow_partial_load:
        cfg.allow_partial_load = True
    check_annotations(cfg, LOADERS, ('val_evaluator', 'test_evaluator'))
    check_init_checkpoints(cfg)
    check_checkpoint(cfg)
    if cfg.get('resume'):  # load_from fine-tunes at the config's temperature
        use_saved_temperature(cfg)
    return Runner.from_cfg(cfg)


def train_then_validate(runner) -> dict:
    """Train, then evaluate once on the val split: the COCO box metrics
    (without their ``coco/`` prefix) and ``train_minutes``."""
    t0 = time.time()
    runner.train()
    train_s = time.time() - t0
    metrics = runner.val()
    metrics = {k.split('/')[-1]: v for k, v in metrics.items()}
    metrics['train_minutes'] = train_s / 60
    return metrics


def train_and_evaluate(config: str,
                       work_dir: str,
                       data: str,
                       cfg_options: Optional[dict] = None,
                       allow_partial_load: bool = False) -> dict:
    """Train ``config`` on the demo data, then evaluate; the metrics of
    :func:`train_then_validate` (arguments as :func:`build_runner`)."""
    return train_then_validate(
        build_runner(config, work_dir, data, cfg_options,
                     allow_partial_load))


def draw_predictions(runner, data: str, out_dir: str, num: int) -> list:
    """Draw the model's boxes on the first ``num`` val images."""
    import glob
    import os

    import mmcv
    from mmdet.apis import inference_detector
    from mmdet.registry import VISUALIZERS


    model = runner.model
    model.cfg = runner.cfg
    model.eval()
    vis = VISUALIZERS.build(
        dict(type='DetLocalVisualizer', name=f'demo{time.time()}'))
    vis.dataset_meta = runner.val_dataloader.dataset.metainfo
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for path in sorted(glob.glob(osp.join(data, 'val', '*.png')))[:num]:
        result = inference_detector(model, path)
        img = mmcv.imconvert(mmcv.imread(path), 'bgr', 'rgb')
        out = osp.join(out_dir, osp.basename(path))
        vis.add_datasample('pred', img, data_sample=result, draw_gt=False,
                           pred_score_thr=0.5, out_file=out)
        written.append(out)
    return written


def format_table(rows: dict) -> str:
    """A markdown table of COCO box metrics, one row per model."""
    head = '| model | ' + ' | '.join(
        m.replace('bbox_mAP', 'AP').replace('AP_', 'AP') for m in METRICS) \
        + ' | train min |'
    lines = [head, '|' + '---|' * (len(METRICS) + 2)]
    for name, met in rows.items():
        vals = ' | '.join(f'{met.get(m, float("nan")):.3f}' for m in METRICS)
        lines.append(f'| {name} | {vals} | {met["train_minutes"]:.1f} |')
    return '\n'.join(lines)


def _main(argv=None) -> int:
    args = parse_args(argv)
    name = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join('work_dirs', 'demo', name)
    vis_dir = osp.join(work_dir, 'vis')
    try:  # the drawn images must not replace the images they are drawn on
        check_not_an_input(vis_dir, [('val image folder',
                                      osp.join(args.data, 'val'))])
    except ValueError as e:
        raise PreflightError(f'--work-dir {e}') from e
    runner = build_runner(args.config, work_dir, args.data,
                          args.cfg_options, args.allow_partial_load)
    met = train_then_validate(runner)
    drawn = draw_predictions(runner, args.data, vis_dir, args.num_vis)
    print('\nCOCO box AP on the demo val split (pycocotools):\n')
    print(format_table({name: met}))
    print(f'\nPredictions drawn on {len(drawn)} val images in {vis_dir}/')
    return 0


def main(argv: Optional[List[str]] = None) -> Union[int, str]:
    """Run the tool; return its exit status 0, or for bad input the
    message that ``sys.exit`` prints with exit status 1 (``run_tool``)."""
    return run_tool(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
