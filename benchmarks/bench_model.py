"""Model benchmark: Faster R-CNN R50-FPN, static vs ODConv 1x vs ODConv 4x.

Builds the three detectors from configs/odconv/ (without their pretrained
``backbone.init_cfg``: no weights are needed to time them), feeds
``mmdet.testing.demo_mm_inputs`` images of ``--shape H W`` through the data
preprocessor once, then times, in one process and interleaved:

- inference: ``model.predict`` at batch 1, eval mode, under no_grad;
- a training step: ``model.loss`` + ``parse_losses`` + backward at batch 2
  (no optimiser step).

Reports the median of the repeats, the ratio to the static baseline and a
peak-memory figure per call (``torch.cuda.max_memory_allocated`` on CUDA, the
torch.profiler CPU allocator proxy of bench_layer.py on CPU). Writes
``<out>.md`` and ``<out>.json``; see benchmarks/README.md.
"""
import argparse
import datetime
import json
import os
import statistics
import sys
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

# mmengine imports pkg_resources, which warns on every run with new
# setuptools; nothing to act on here.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

# yapf: disable
from mmdet_odconv import IMPLS  # noqa: E402
from bench_layer import (  # noqa: E402
    CPU_MEMORY_PROXY, CUDA_MEMORY_PROXY, DTYPES, Runner, apply_runtime_setup,
    exact_command, load, machine_info, machine_line, warn_if_busy)
# yapf: enable

CONFIG_DIR = os.path.join(ROOT, 'configs', 'odconv')
MODELS_CFG = {
    'baseline': 'faster-rcnn_r50_fpn_1x_coco.py',
    'odconv1x': 'faster-rcnn_r50-odconv1x_fpn_1x_coco.py',
    'odconv4x': 'faster-rcnn_r50-odconv4x_fpn_1x_coco.py',
}
TASKS = ('infer', 'train')


def build_model(name: str, device: torch.device, impl: str) -> nn.Module:
    """Build one detector from its config, without pretrained weights."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmdet_odconv  # noqa: F401  (registers ODConv and backbones)
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    cfg = Config.fromfile(os.path.join(CONFIG_DIR, MODELS_CFG[name]))
    cfg.model.backbone.pop('init_cfg', None)
    # No init_weights(): the timing needs no particular initialisation
    # (ODConv2d initialises itself when built) and it logs every tensor.
    model = MODELS.build(cfg.model)
    if impl != 'auto':
        from mmdet_odconv import ODConv2d
        for m in model.modules():
            # 'static' is only valid for one 1x1 kernel; others keep 'auto'.
            if isinstance(m, ODConv2d) and (impl != 'static' or
                                            (m.kernel_num == 1
                                             and m.kernel_size == (1, 1))):
                m.impl = impl
    return model.to(device)


def make_data(model: nn.Module, batch: int, shape: Sequence[int],
              training: bool) -> Dict[str, Any]:
    """Preprocessed demo batch (normalised, padded, on the model device)."""
    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(
        batch_size=batch,
        image_shapes=(3, int(shape[0]), int(shape[1])),
        num_items=[5] * batch,
        num_classes=80)
    return model.data_preprocessor(packed, training)


def make_task(model: nn.Module, task: str, shape: Sequence[int],
              runner: Runner) -> Dict[str, Callable[[], None]]:
    """(call, reset) for inference at B=1 or a training step at B=2."""
    autocast_on = runner.autocast

    def autocast():
        return torch.autocast(
            runner.device.type, dtype=runner.dtype, enabled=autocast_on)

    if task == 'infer':
        model.eval()
        data = make_data(model, 1, shape, False)

        def call() -> None:
            with torch.no_grad(), autocast():
                model.predict(data['inputs'], data['data_samples'])

        return dict(call=call, reset=lambda: None)

    model.train()
    data = make_data(model, 2, shape, True)

    def call() -> None:
        with autocast():
            losses = model.loss(data['inputs'], data['data_samples'])
        loss, _ = model.parse_losses(losses)
        loss.backward()

    def reset() -> None:
        model.zero_grad(set_to_none=True)

    return dict(call=call, reset=reset)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument(
        '--dtype',
        default='float32',
        choices=list(DTYPES),
        help='non-float32 runs under torch.autocast')
    p.add_argument(
        '--shape',
        nargs=2,
        type=int,
        metavar=('H', 'W'),
        help='image size (default 800 1333 on CUDA, 320 512 on '
        'CPU, 128 192 with --quick)')
    p.add_argument(
        '--models',
        nargs='+',
        choices=list(MODELS_CFG),
        default=list(MODELS_CFG))
    p.add_argument('--tasks', nargs='+', choices=TASKS, default=list(TASKS))
    p.add_argument(
        '--impl',
        default='auto',
        choices=list(IMPLS),
        help="force every ODConv2d's impl ('static' only where valid)")
    p.add_argument(
        '--repeats', type=int, help='default 3 CPU, 10 CUDA, 1 with --quick')
    p.add_argument(
        '--warmup', type=int, help='default 1 CPU, 3 CUDA, 0 with --quick')
    p.add_argument(
        '--threads',
        type=int,
        help='torch.set_num_threads (default: torch default; 1 '
        'with --quick)')
    p.add_argument(
        '--quick',
        action='store_true',
        help='smoke run: 128x192 images, no warm-up, 1 repeat')
    p.add_argument(
        '--no-memory', action='store_true', help='skip the peak-memory pass')
    p.add_argument(
        '--no-runtime-setup',
        action='store_true',
        help="measure without our tools' runtime setup (see "
        'bench_layer.py --help)')
    p.add_argument(
        '--out',
        help='output path without extension (default '
        'benchmarks/results/{cpu,gpu}_model[_<dtype>][_quick])')
    args = p.parse_args(argv)
    cuda = args.device == 'cuda'
    if args.shape is None:
        args.shape = [128, 192] if args.quick else (
            [800, 1333] if cuda else [320, 512])
    if args.repeats is None:
        args.repeats = 1 if args.quick else (10 if cuda else 3)
    if args.warmup is None:  # --quick: a smoke run, not a measurement
        args.warmup = 0 if args.quick else (3 if cuda else 1)
    if args.out is None:
        name = ('gpu' if cuda else 'cpu') + '_model'
        if args.dtype != 'float32':
            name += '_' + {'bfloat16': 'bf16', 'float16': 'fp16'}[args.dtype]
        if args.quick:
            name += '_quick'
        args.out = os.path.join(HERE, 'results', name)
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        print('CUDA is not available', file=sys.stderr)
        return 2
    if args.quick and not args.threads:
        args.threads = 1  # smoke run: robust on a shared, busy machine
    if args.threads:
        torch.set_num_threads(args.threads)
    runtime = apply_runtime_setup(not args.no_runtime_setup)
    device = torch.device(args.device)
    runner = Runner(device, DTYPES[args.dtype])
    info = machine_info(device)
    info['runtime'] = runtime
    print(machine_line(info), flush=True)
    warn_if_busy(info)
    start = time.perf_counter()
    torch.manual_seed(0)
    models: Dict[str, nn.Module] = {}
    params: Dict[str, float] = {}
    for name in args.models:
        models[name] = build_model(name, device, args.impl)
        params[name] = sum(p.numel() for p in models[name].parameters())
    results: Dict[str, Dict[str, Any]] = {
        t: {
            m: {}
            for m in args.models
        }
        for t in args.tasks
    }
    for task in args.tasks:
        calls = {}
        for name, model in models.items():
            try:
                calls[name] = make_task(model, task, args.shape, runner)
            except Exception as err:  # noqa: BLE001  (recorded)
                results[task][name]['error'] = f'{type(err).__name__}: {err}'
        times: Dict[str, List[float]] = {m: [] for m in calls}
        for rep in range(args.warmup + args.repeats):
            order = list(calls)
            order = order[rep % len(order):] + order[:rep % len(order)]
            for name in order:
                if 'error' in results[task][name]:
                    continue
                try:
                    t = runner.time_call(calls[name]['call'],
                                         calls[name]['reset'])
                except Exception as err:  # noqa: BLE001
                    results[task][name]['error'] = (
                        f'{type(err).__name__}: {str(err)[:200]}')
                    if device.type == 'cuda':
                        torch.cuda.empty_cache()
                    continue
                if rep >= args.warmup:
                    times[name].append(t)
        for name in calls:
            res = results[task][name]
            if times[name]:
                res['median_ms'] = statistics.median(times[name]) * 1e3
                res['times_ms'] = [t * 1e3 for t in times[name]]
            if not args.no_memory and 'error' not in res:
                try:
                    res['peak_bytes'] = int(
                        runner.peak_bytes(calls[name]['call'],
                                          calls[name]['reset']))
                except Exception as err:  # noqa: BLE001
                    res['memory_error'] = f'{type(err).__name__}: {err}'
            print(
                f'{task} {name}: ' +
                (f"{res['median_ms']:.1f} ms"
                 if 'median_ms' in res else res.get('error', '-')) +
                (f", peak {res['peak_bytes'] / 2**20:.0f} MB"
                 if 'peak_bytes' in res else ''),
                flush=True)
        del calls
    try:
        info['loadavg_end'] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    configs = {
        m: os.path.relpath(os.path.join(CONFIG_DIR, MODELS_CFG[m]), ROOT)
        for m in args.models
    }
    meta = dict(
        command=exact_command(),
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        wall_s=time.perf_counter() - start,
        device=args.device,
        dtype=args.dtype,
        machine=info,
        shape=list(args.shape),
        impl=args.impl,
        quick=args.quick,
        repeats=args.repeats,
        warmup=args.warmup,
        memory_proxy=(CUDA_MEMORY_PROXY
                      if device.type == 'cuda' else CPU_MEMORY_PROXY),
        configs=configs)
    data = dict(meta=meta, params=params, results=results)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + '.json', 'w') as f:
        json.dump(data, f, indent=1)
    lines = markdown(data)
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(ln for ln in lines if ln.startswith('|')))
    print(f'wrote {args.out}.md, .json in {data["meta"]["wall_s"]:.0f} s')
    return 0


def markdown(data: Dict[str, Any]) -> List[str]:
    meta = data['meta']
    h, w = meta['shape']
    lines = [
        f"# Faster R-CNN R50-FPN benchmark ({meta['device']}, "
        f"{meta['dtype']})",
        '',
        f"- Machine: {machine_line(meta['machine'])}",
        f"- Command: `{meta['command']}`",
        f"- Date: {meta['date']}; wall time {meta['wall_s']:.0f} s; load "
        f'average at start {load(meta, "start")}, at end '
        f'{load(meta, "end")}',
        f'- Images: {h}x{w} demo images (mmdet.testing.demo_mm_inputs, 5 '
        'boxes each), preprocessed once outside the timing.',
        f"- infer: model.predict at batch 1, eval, no_grad. train: "
        f"model.loss + backward at batch 2 (no optimiser step). Median of "
        f"{meta['repeats']} repeats after {meta['warmup']} warm-up "
        f"call(s), models interleaved; ODConv impl={meta['impl']!r}.",
        f"- Peak memory: {meta['memory_proxy']}.",
        '- `--quick`: a smoke run of the harness; these numbers are not a '
        'measurement.' if meta.get('quick') else None,
        '- Configs: ' + ', '.join(f'{m}: `{c}`'
                                  for m, c in meta['configs'].items()) +
        ' (backbone init_cfg removed).',
        '',
        '| model | params (M) | infer B=1 ms | x baseline | train B=2 ms '
        '| x baseline | infer peak MB | train peak MB |',
        '|---|---|---|---|---|---|---|---|',
    ]
    lines = [ln for ln in lines if ln is not None]
    res = data['results']

    def cell(task: str, model: str, key: str) -> str:
        r = res.get(task, {}).get(model, {})
        if key == 'ms':
            return (f"{r['median_ms']:.1f}" if 'median_ms' in r else
                    ('error' if 'error' in r else '-'))
        if key == 'mb':
            return (f"{r['peak_bytes'] / 2**20:.0f}"
                    if 'peak_bytes' in r else '-')
        base = res.get(task, {}).get('baseline', {}).get('median_ms')
        if base and 'median_ms' in r:
            return f"{r['median_ms'] / base:.2f}"
        return '-'

    for m, n in data['params'].items():
        lines.append(f'| {m} | {n / 1e6:.1f} | {cell("infer", m, "ms")} | '
                     f'{cell("infer", m, "x")} | {cell("train", m, "ms")} | '
                     f'{cell("train", m, "x")} | {cell("infer", m, "mb")} | '
                     f'{cell("train", m, "mb")} |')
    errors = [
        f'- {t} {m}: {r["error"]}' for t, rr in res.items()
        for m, r in rr.items() if 'error' in r
    ]
    if errors:
        lines += ['', '## Errors', ''] + errors
    return lines


if __name__ == '__main__':
    sys.exit(main())
