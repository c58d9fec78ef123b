"""The paper's pipeline in miniature: pretrain, then fine-tune for detection.

  python tools/analysis_tools/pretrain_finetune_study.py \
      [--models static od1x od4x] [--seeds 0 1 2] [--cls-iters N] \
      [--det-iters N] [--out work_dirs/study] [--quick] \
      [--cls-cfg-options K=V ...] [--det-cfg-options K=V ...]

ODConv's detection gains come from ImageNet-pretrained backbones fine-tuned
on COCO. For each model (static ResNet18, OD-ResNet18 1x, 4x at the demo's
width) and seed, this tool pretrains the backbone on the generated shapes
classification set (configs/pretrain_demo/*_shapes-cls_demo.py, the
official recipe scaled down), saves its ``backbone.*`` weights, checks that
they load strictly into the demo detector's backbone, fine-tunes the demo's
Faster R-CNN from them with the paper's detection settings
(configs/pretrain_demo/*_pretrained_demo.py: frozen_stages=1,
norm_eval=True, temperature 1) and evaluates its box AP. Both datasets are
generated when missing. A seed changes the initialisation and the data
order, not the data.

Written to ``--out`` after every stage: ``results.json`` (every run; runs
already done with the same settings are skipped, so an interrupted study
continues where it stopped, and an interrupted training resumes from its
latest checkpoint), ``results.md`` (mean +- std over seeds of top-1 and box
AP, minutes per run) and ``results.png``. ``--quick`` checks the plumbing
on tiny data in about a minute.
"""
import argparse
import copy
import importlib.util
import json
import os
import os.path as osp
import platform
import shutil
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

from mmengine.config import DictAction

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG_DIR = osp.join(ROOT, 'configs', 'pretrain_demo')
# name -> (label, pretraining config, fine-tuning config)
STUDY_MODELS = {
    'static': ('R18', 'resnet18_shapes-cls_demo.py',
               'faster-rcnn_r18_fpn_pretrained_demo.py'),
    'od1x': ('OD-R18 1x', 'resnet18-odconv1x_shapes-cls_demo.py',
             'faster-rcnn_r18-odconv1x_fpn_pretrained_demo.py'),
    'od4x': ('OD-R18 4x', 'resnet18-odconv4x_shapes-cls_demo.py',
             'faster-rcnn_r18-odconv4x_fpn_pretrained_demo.py'),
}
BOX_KEYS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s',
            'bbox_mAP_m', 'bbox_mAP_l')
# --quick: tiny data, a few iterations, one seed.
QUICK_CLS_DATA = dict(train_per_class=2, val_per_class=1, image_size=32)
QUICK_DET_DATA = dict(num_train=8, num_val=4, image_size=96)
QUICK_ITERS = dict(cls=3, det=2)
QUICK_CLS_OPTIONS = {
    'default_hooks.checkpoint.interval': 1000,  # only the last one
    'train_dataloader.batch_size': 8,
    'train_dataloader.dataset.crop_padding': 2,
    'val_dataloader.batch_size': 64,
}
QUICK_DET_OPTIONS = {
    'default_hooks.checkpoint.interval': 1000,
    'train_dataloader.batch_size': 2,
    'train_dataloader.num_workers': 0,
    'train_dataloader.persistent_workers': False,
    'val_dataloader.num_workers': 0,
    'val_dataloader.persistent_workers': False,
}
RESULTS_JSON, RESULTS_MD, RESULTS_PNG = ('results.json', 'results.md',
                                         'results.png')
BACKBONE_FILE = 'backbone.pth'


class StudyError(ValueError):
    """A study that cannot go on (a backbone that does not load, ...)."""


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--models', nargs='+', default=list(STUDY_MODELS),
                   choices=list(STUDY_MODELS))
    p.add_argument('--seeds', nargs='+', type=int, default=None,
                   help='default: 0 1 2 (--quick: 0)')
    p.add_argument('--cls-iters', type=int, default=None,
                   help="pretraining iterations (default: the config's); "
                   'warm-up, LR steps, annealing and checkpoint interval '
                   'scale with it')
    p.add_argument('--det-iters', type=int, default=None,
                   help="fine-tuning iterations (default: the config's, "
                   "the demo's 900); its schedule scales with it")
    p.add_argument('--out', default=None,
                   help='default: work_dirs/study (--quick: '
                   'work_dirs/study-quick)')
    p.add_argument('--cls-data', default=None,
                   help='classification set (generated if missing); '
                   'default: data/odconv_shapes_cls (--quick: OUT/data/cls)')
    p.add_argument('--cls-per-class', nargs=2, type=int, default=None,
                   metavar=('TRAIN', 'VAL'),
                   help='images per class of the generated classification '
                   'set (default: 300 50; --quick: 2 1)')
    p.add_argument('--cls-image-size', type=int, default=None,
                   help='its image size (default: 64; --quick: 32)')
    p.add_argument('--det-data', default=None,
                   help='detection demo set (generated if missing); '
                   'default: data/odconv_demo (--quick: OUT/data/det)')
    p.add_argument('--quick', action='store_true',
                   help='tiny data and a few iterations: checks pretrain -> '
                   'strict load -> fine-tune -> AP')
    p.add_argument('--cls-cfg-options', nargs='+', action=DictAction,
                   default=None, help='key=value overrides of the '
                   'pretraining configs')
    p.add_argument('--det-cfg-options', nargs='+', action=DictAction,
                   default=None,
                   help='key=value overrides of the fine-tuning configs')
    args = p.parse_args(argv)
    for name in ('cls_iters', 'det_iters'):
        v = getattr(args, name)
        if v is not None and v < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1, got {v}')
    if args.quick:
        args.seeds = args.seeds or [0]
        args.out = args.out or 'work_dirs/study-quick'
        args.cls_iters = args.cls_iters or QUICK_ITERS['cls']
        args.det_iters = args.det_iters or QUICK_ITERS['det']
        args.cls_data = args.cls_data or osp.join(args.out, 'data', 'cls')
        args.det_data = args.det_data or osp.join(args.out, 'data', 'det')
    args.seeds = args.seeds if args.seeds is not None else [0, 1, 2]
    args.out = args.out or 'work_dirs/study'
    args.cls_data = args.cls_data or 'data/odconv_shapes_cls'
    args.det_data = args.det_data or 'data/odconv_demo'
    return args


# --------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------
def scale_iterations(cfg, max_iters: Optional[int]) -> Dict[str, Any]:
    """``--cfg-options`` that stretch an iteration-based config's schedule
    to ``max_iters``: LR scheduler bounds and milestones, the temperature
    annealing, the validation and checkpoint intervals, all in proportion
    (empty when ``max_iters`` is None or the config's own)."""
    old = int(cfg.train_cfg.max_iters)
    if max_iters is None or max_iters == old:
        return {}
    ratio = max_iters / old

    def count(v: int) -> int:
        return max(1, int(round(v * ratio)))

    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    scaled = []
    for sch in schedulers:
        sch = copy.deepcopy(sch.to_dict() if hasattr(sch, 'to_dict') else
                            dict(sch))
        if not sch.get('by_epoch', True):
            begin = int(round(sch.get('begin', 0) * ratio))
            sch['begin'] = begin
            if sch.get('end') is not None:
                sch['end'] = max(begin + 1, int(round(sch['end'] * ratio)))
            if 'milestones' in sch:
                sch['milestones'] = [count(m) for m in sch['milestones']]
        scaled.append(sch)
    hooks = []
    for hook in cfg.get('custom_hooks') or []:
        hook = copy.deepcopy(
            hook.to_dict() if hasattr(hook, 'to_dict') else dict(hook))
        if hook.get('type') == 'ODConvTemperatureHook' and not hook.get(
                'by_epoch', True):
            hook['duration'] = count(hook['duration'])
        hooks.append(hook)
    opts: Dict[str, Any] = {
        'train_cfg.max_iters': int(max_iters),
        'train_cfg.val_interval': count(cfg.train_cfg.get(
            'val_interval', old)),
        'param_scheduler': scaled,
        'custom_hooks': hooks,
    }
    ckpt = cfg.get('default_hooks', {}).get('checkpoint')
    if ckpt and not ckpt.get('by_epoch', True) and ckpt.get('interval'):
        opts['default_hooks.checkpoint.interval'] = count(ckpt['interval'])
    return opts


# --------------------------------------------------------------------------
# One run: pretrain -> save backbone -> strict load -> fine-tune
# --------------------------------------------------------------------------
def _demo_tool():
    """tools/demo.py as a module (this file also runs as a script, with
    no ``tools`` package on the path)."""
    spec = importlib.util.spec_from_file_location(
        '_odconv_demo_tool', osp.join(ROOT, 'tools', 'demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pretrain(config: str, work_dir: str, data: str, seed: int,
             max_iters: Optional[int], cfg_options: Optional[dict],
             backbone_path: str, name: str) -> Dict[str, float]:
    """Train a classifier config, save its backbone to ``backbone_path``;
    its val top-1/top-5 (%), minutes and seconds per iteration.

    Resumes from the latest checkpoint in ``work_dir`` if there is one.
    """
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner

    from mmdet_odconv.tools_support import load_config
    from mmdet_odconv.workbench import save_backbone, setup_runtime

    setup_runtime()
    cfg = load_config(config, work_dir=work_dir)
    cfg.merge_from_dict(scale_iterations(cfg, max_iters))
    cfg.merge_from_dict(cfg_options or {})  # the user's options win
    iters = int(cfg.train_cfg.max_iters)
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].dataset.data_root = data
    # validate once, after training (see tools/demo.py)
    cfg.train_cfg.val_interval = cfg.train_cfg.val_begin = iters + 1
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    cfg.experiment_name = name
    cfg.resume = _has_checkpoint(work_dir)
    if cfg.get('visualizer') is not None:  # a named process-wide singleton
        cfg.visualizer.name = f'{name}_{time.time_ns()}'
    runner = Runner.from_cfg(cfg)
    t0 = time.time()
    runner.train()
    train_s = time.time() - t0
    metrics = {k.split('/')[-1]: float(v) for k, v in runner.val().items()}
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    save_backbone(model, backbone_path,
                  meta=dict(config=osp.relpath(config, ROOT), seed=seed,
                            iters=iters, **metrics))
    return dict(metrics, minutes=train_s / 60, iters=iters,
                s_per_iter=_median_step_time(runner))


def _has_checkpoint(work_dir: str) -> bool:
    """Whether an interrupted training left a checkpoint to resume from
    (MMEngine's ``resume=True`` would otherwise look again at ``val()``)."""
    from mmengine.runner import find_latest_checkpoint
    return osp.isdir(work_dir) and find_latest_checkpoint(work_dir) is not None


def _median_step_time(runner) -> float:
    """Median seconds per training iteration (data + step) logged by
    ``IterTimerHook``, the first one (warm-up) left out; NaN if none."""
    import numpy as np
    hub = runner.message_hub
    if 'train/time' not in hub.log_scalars:
        return float('nan')
    values = np.asarray(hub.get_scalar('train/time').data[0], float)
    return float(np.median(values[1:] if len(values) > 1 else values))


def _finetune_options(config: str, det_iters: Optional[int],
                      cfg_options: Optional[dict], checkpoint: str,
                      seed: int, work_dir: str,
                      name: str) -> Dict[str, Any]:
    """The ``--cfg-options`` of one fine-tuning: the schedule stretched
    to ``det_iters``, then the user's options, then the run's own."""
    from mmdet_odconv.tools_support import load_config
    cfg = load_config(config)
    opts = {'train_cfg.max_iters': int(cfg.train_cfg.max_iters)}
    opts.update(scale_iterations(cfg, det_iters))
    opts.update(cfg_options or {})
    opts.update({
        'model.backbone.init_cfg.checkpoint': checkpoint,
        'randomness.seed': seed,
        'experiment_name': name,
        'resume': _has_checkpoint(work_dir),
    })
    return opts


def _settings(args: argparse.Namespace, model: str) -> Dict[str, Any]:
    """What a run's results depend on (besides the code)."""
    from mmdet_odconv.workbench import shapes_cls
    recipe = shapes_cls._read_meta(args.cls_data)
    det_info = {}
    ann = osp.join(args.det_data, 'annotations', 'instances_train.json')
    if osp.isfile(ann):
        with open(ann) as f:
            coco = json.load(f)
        info = coco.get('info', {})
        det_info = dict(seed=info.get('seed'),
                        image_size=info.get('image_size'),
                        train_images=len(coco.get('images', [])))
    return dict(
        model=model, cls_config=STUDY_MODELS[model][1],
        det_config=STUDY_MODELS[model][2], cls_iters=args.cls_iters,
        det_iters=args.det_iters, cls_data=recipe, det_data=det_info,
        cls_cfg_options=_jsonable(_cls_options(args)),
        det_cfg_options=_jsonable(_det_options(args)))


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str, sort_keys=True))


def _cls_options(args) -> Dict[str, Any]:
    opts = dict(QUICK_CLS_OPTIONS) if args.quick else {}
    opts.update(args.cls_cfg_options or {})
    return opts


def _det_options(args) -> Dict[str, Any]:
    opts = dict(QUICK_DET_OPTIONS) if args.quick else {}
    opts.update(args.det_cfg_options or {})
    return opts


def run_one(args: argparse.Namespace, model: str, seed: int,
            record: Dict[str, Any], save) -> Dict[str, Any]:
    """Pretrain, check, fine-tune one (model, seed); ``record`` holds what
    an earlier run of the same settings finished (``save`` after each
    stage writes the results)."""
    from mmdet_odconv.workbench import backbone_fit
    label, cls_cfg, det_cfg = STUDY_MODELS[model]
    cls_cfg, det_cfg = osp.join(CFG_DIR, cls_cfg), osp.join(CFG_DIR, det_cfg)
    key = f'{model}-seed{seed}'
    run_dir = osp.join(args.out, 'runs', key)
    settings = _settings(args, model)
    if record.get('settings') != settings:
        # other settings: start this run afresh (its folder is ours)
        shutil.rmtree(run_dir, ignore_errors=True)
        record.clear()
        record.update(model=model, label=label, seed=seed,
                      settings=settings)
    backbone = osp.join(run_dir, BACKBONE_FILE)
    if 'pretrain' not in record or not osp.isfile(backbone):
        print(f'[study] {key}: pretraining ({osp.basename(cls_cfg)})')
        record['pretrain'] = pretrain(
            cls_cfg, osp.join(run_dir, 'pretrain'), args.cls_data, seed,
            args.cls_iters, _cls_options(args), backbone, f'{key}-pretrain')
        record.pop('load_check', None)
        record.pop('finetune', None)
        save()
    if not (record.get('load_check') or {}).get('ok'):
        fit = backbone_fit(backbone, det_cfg, _det_options(args))
        record['load_check'] = fit
        save()
        if not fit['ok']:
            raise StudyError(
                f'{backbone} does not load strictly into the backbone of '
                f'{det_cfg}: missing {fit["missing"][:5]}, unexpected '
                f'{fit["unexpected"][:5]}, other shape '
                f'{fit["mismatched"][:5]}, not loaded '
                f'{fit["not_loaded"][:5]}')
    if 'finetune' not in record:
        print(f'[study] {key}: fine-tuning ({osp.basename(det_cfg)})')
        work_dir = osp.join(run_dir, 'finetune')
        opts = _finetune_options(det_cfg, args.det_iters, _det_options(args),
                                 osp.abspath(backbone), seed, work_dir,
                                 f'{key}-finetune')
        met = _demo_tool().train_and_evaluate(det_cfg, work_dir,
                                              args.det_data, opts)
        record['finetune'] = dict({k: float(v)
                                   for k, v in met.items()},
                                  iters=opts['train_cfg.max_iters'])
        save()
    return record


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
def load_results(out: str) -> Dict[str, Any]:
    path = osp.join(out, RESULTS_JSON)
    if not osp.isfile(path):
        return dict(runs={})
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get('runs'), dict):
        raise StudyError(f'{path} is not a results file of this tool; '
                         'choose another --out or remove it')
    return data


def _write_atomic(path: str, text: str) -> None:
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def _mean_std(values: Sequence[float], scale: float = 1.0,
              digits: int = 1) -> str:
    import numpy as np
    v = np.asarray(values, float) * scale
    if not len(v):
        return '-'
    if len(v) == 1:
        return f'{v[0]:.{digits}f}'
    return f'{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}'


def _done(rec: Dict[str, Any]) -> bool:
    return 'finetune' in rec and 'pretrain' in rec


def format_tables(results: Dict[str, Any], models: Sequence[str]) -> str:
    """Markdown: mean +- std (sample std over seeds) per model, then every
    run. Top-1/top-5 in %, box AP x100, minutes of training."""
    runs = list(results['runs'].values())
    lines = [
        '| model | seeds | top-1 (%) | top-5 (%) | box AP | AP50 | AP75 '
        '| pretrain min | fine-tune min |', '|---|---|---|---|---|---|---'
        '|---|---|'
    ]
    for model in models:
        done = [r for r in runs if r['model'] == model and _done(r)]
        if not done:
            continue
        pre = [r['pretrain'] for r in done]
        fin = [r['finetune'] for r in done]
        lines.append(
            f'| {STUDY_MODELS[model][0]} | {len(done)} | '
            f'{_mean_std([p["top1"] for p in pre])} | '
            f'{_mean_std([p["top5"] for p in pre])} | '
            f'{_mean_std([f["bbox_mAP"] for f in fin], 100)} | '
            f'{_mean_std([f["bbox_mAP_50"] for f in fin], 100)} | '
            f'{_mean_std([f["bbox_mAP_75"] for f in fin], 100)} | '
            f'{_mean_std([p["minutes"] for p in pre])} | '
            f'{_mean_std([f["train_minutes"] for f in fin])} |')
    lines += [
        '', '| run | top-1 (%) | top-5 (%) | strict load | box AP | AP50 '
        '| pretrain iters | s/iter | pretrain min | fine-tune iters '
        '| fine-tune min |', '|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for key, r in results['runs'].items():
        pre, fin = r.get('pretrain', {}), r.get('finetune', {})
        fit = r.get('load_check') or {}

        def num(d, k, scale=1.0, digits=1):
            return f'{d[k] * scale:.{digits}f}' if k in d else '-'

        ok = ('-' if not fit else 'ok' if fit.get('ok') else 'FAILED')
        lines.append(
            f'| {key} | {num(pre, "top1")} | {num(pre, "top5")} | {ok} | '
            f'{num(fin, "bbox_mAP", 100)} | {num(fin, "bbox_mAP_50", 100)} '
            f'| {num(pre, "iters", digits=0)} | '
            f'{num(pre, "s_per_iter", digits=3)} | {num(pre, "minutes")} | '
            f'{num(fin, "iters", digits=0)} | {num(fin, "train_minutes")} |')
    return '\n'.join(lines)


def plot_results(results: Dict[str, Any], models: Sequence[str],
                 path: str) -> bool:
    """Bars (mean, error bar: std over seeds; dots: the seeds) of top-1
    and box AP per model; False when no run is finished."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    runs = [r for r in results['runs'].values() if _done(r)]
    models = [m for m in models if any(r['model'] == m for r in runs)]
    if not models:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    panels = (('pretraining: val top-1 (%)', lambda r: r['pretrain']['top1']),
              ('fine-tuning: box AP (x100)',
               lambda r: r['finetune']['bbox_mAP'] * 100))
    for ax, (title, get) in zip(axes, panels):
        for i, m in enumerate(models):
            v = np.array([get(r) for r in runs if r['model'] == m])
            err = v.std(ddof=1) if len(v) > 1 else 0.0
            ax.bar(i, v.mean(), yerr=err, capsize=4, color=f'C{i}',
                   alpha=0.7)
            ax.plot(np.full(len(v), i), v, 'k.', ms=4)
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels([STUDY_MODELS[m][0] for m in models])
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    tmp = f'{path}.tmp-{os.getpid()}.png'
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return True


def write_results(args: argparse.Namespace, results: Dict[str, Any],
                  argv: Optional[List[str]]) -> None:
    """results.json, results.md and results.png in ``args.out``."""
    os.makedirs(args.out, exist_ok=True)
    _write_atomic(osp.join(args.out, RESULTS_JSON),
                  json.dumps(results, indent=1, default=str) + '\n')
    command = ' '.join(['python tools/analysis_tools/'
                        'pretrain_finetune_study.py'] + list(
                            sys.argv[1:] if argv is None else argv))
    text = (
        '# Pretrain -> fine-tune study (generated shapes)\n\n'
        f'Machine: {platform.processor() or platform.machine()}, '
        f'{os.cpu_count()} cores, OMP_NUM_THREADS='
        f'{os.environ.get("OMP_NUM_THREADS", "unset")}; '
        f'{time.strftime("%Y-%m-%d %H:%M")}; command: `{command}`\n\n'
        'Top-1/top-5 on the classification val split, box AP (x100) on '
        'the detection val split: mean ± sample std over seeds; minutes '
        'of training (of the last session, for a resumed run).\n\n' +
        format_tables(results, args.models) + '\n')
    _write_atomic(osp.join(args.out, RESULTS_MD), text)
    plot_results(results, args.models, osp.join(args.out, RESULTS_PNG))


def prepare_data(args: argparse.Namespace) -> None:
    """Generate the classification and detection sets if missing."""
    from mmdet_odconv.workbench import (generate_coco_dataset,
                                        generate_shapes_cls,
                                        is_complete_dataset)
    recipe = dict(QUICK_CLS_DATA) if args.quick else {}
    if args.cls_per_class:
        recipe.update(train_per_class=args.cls_per_class[0],
                      val_per_class=args.cls_per_class[1])
    if args.cls_image_size:
        recipe.update(image_size=args.cls_image_size)
    t0 = time.time()
    # reuses a set of the same recipe; refuses one of another
    if not generate_shapes_cls(args.cls_data, **recipe)['reused']:
        print(f'[study] generated {args.cls_data} in '
              f'{time.time() - t0:.0f} s')
    if not is_complete_dataset(args.det_data):
        generate_coco_dataset(args.det_data,
                              **(QUICK_DET_DATA if args.quick else {}))


def run_study(args: argparse.Namespace,
              argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """Every (model, seed) run not already done; the results dict."""
    import mmdet_odconv  # noqa: F401
    prepare_data(args)
    results = load_results(args.out)

    def save() -> None:
        write_results(args, results, argv)

    for seed in args.seeds:
        for model in args.models:
            key = f'{model}-seed{seed}'
            record = results['runs'].setdefault(key, {})
            if _done(record) and record.get('settings') == _settings(
                    args, model):
                print(f'[study] {key}: done, skipped')
                continue
            run_one(args, model, seed, record, save)
            save()
    save()
    return results


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmdet_odconv.checkpoints import CheckpointError
    try:
        run_study(args, argv)
    except (StudyError, CheckpointError, ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    with open(osp.join(args.out, RESULTS_MD)) as f:
        print(f.read())
    return 0


if __name__ == '__main__':
    sys.exit(main())
