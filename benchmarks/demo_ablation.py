"""Accuracy studies on the CPU demo: named variants x seeds, mean ± std.

Each run trains one demo config with ``--cfg-options``-style overrides and a
seed (``randomness.seed``: initialisation and data order) in a fresh
process, through ``tools.demo.train_and_evaluate``. Finished runs are kept
in ``<out>.jsonl`` and skipped when the study is run again; the markdown
table ``<out>.md`` is rewritten after every run.

  python benchmarks/demo_ablation.py STUDY [--seeds 0 1 2] [--only NAME ...]
  python benchmarks/demo_ablation.py STUDY --plot OUT.png [--only NAME ...]

``--plot`` draws the training loss of finished runs (mean over seeds, the
band spanning them) from their MMEngine ``scalars.json`` logs.
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Tuple

R18 = 'configs/demo/faster-rcnn_r18_fpn_demo.py'
OD1X = 'configs/demo/faster-rcnn_r18-odconv1x_fpn_demo.py'
OD4X = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'
RTM = 'configs/demo/rtmdet_tiny_demo.py'
RTM_OD4X = 'configs/demo/rtmdet_tiny-odconv4x_demo.py'

ODCONV = 'model.backbone.odconv.'
# The layer's default (the official) attention norm, spelled out (make demo's
# config trains without it).
BN = {ODCONV + 'attention_norm_cfg': dict(type='BN')}
NO_NORM = {ODCONV + 'attention_norm_cfg': None}


def _bank_keys(prefix: str = 'backbone.') -> List[str]:
    """Parameter names of the OD-R18 kernel banks (every block conv)."""
    return [f'{prefix}layer{s}.{b}.conv{c}.weight' for s in range(1, 5)
            for b in range(2) for c in (1, 2)]


def _register_probe_hooks() -> None:
    """Register the hooks only these studies use (in MMEngine's root)."""
    import torch
    from mmengine.hooks import Hook
    from mmengine.model import is_model_wrapper
    from mmengine.registry import HOOKS

    from mmdet_odconv import ODConv2d

    def odconv_layers(runner) -> List[ODConv2d]:
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        return [m for m in model.modules() if isinstance(m, ODConv2d)]

    class SharedBankInitHook(Hook):
        """Before training, copy each ODConv's first kernel over the rest
        of its bank: the kernels then differ only by what they learn."""

        def before_train(self, runner) -> None:
            with torch.no_grad():
                for m in odconv_layers(runner):
                    m.weight[1:] = m.weight[0]

    class StaticConvInitHook(Hook):
        """Before training, initialise each kernel of every ODConv bank
        as PyTorch initialises an ``nn.Conv2d`` (the static demo's
        convs), instead of ODConv's Kaiming normal over fan-out."""

        def before_train(self, runner) -> None:
            for m in odconv_layers(runner):
                for w in m.weight:
                    torch.nn.init.kaiming_uniform_(w, a=5**0.5)

    HOOKS.register_module(module=SharedBankInitHook, force=True)
    HOOKS.register_module(module=StaticConvInitHook, force=True)


def _hooks(*extra: dict, anneal: int = 300) -> dict:
    """The demo's ODConv hooks (annealing over ``anneal`` iterations; 0:
    none) and ``extra``."""
    hooks = [dict(type='RNGStateHook')]
    if anneal:
        hooks.append(dict(type='ODConvTemperatureHook', start=30.0, end=1.0,
                          duration=anneal, by_epoch=False))
    return {'custom_hooks': hooks + list(extra)}


SHARED_BANK = dict(type='SharedBankInitHook')
STATIC_INIT = dict(type='StaticConvInitHook')
ZERO_HEADS = {ODCONV + 'zero_init_attention': True}


def _paramwise(keys: Dict[str, dict]) -> dict:
    # bypass_duplicate: RTMDet's head shares its convs across levels
    return {'optim_wrapper.paramwise_cfg': dict(custom_keys=keys,
                                                bypass_duplicate=True)}


STUDIES: Dict[str, Dict[str, Tuple[str, dict]]] = {
    # Faster R-CNN R18 from scratch: one change at a time from the demo.
    'r18_scratch': {
        'R18 static': (R18, {}),
        'OD-R18 1x': (OD1X, {}),
        'OD-R18 4x': (OD4X, BN),
        'OD-R18 4x, attention norm none': (
            OD4X, NO_NORM),
        'OD-R18 4x, attention norm GN': (
            OD4X, {ODCONV + 'attention_norm_cfg': dict(
                type='GN', num_groups=4)}),
        'OD-R18 4x, no wd on attention': (
            OD4X, {**BN, **_paramwise({'attention': dict(decay_mult=0.0)})}),
        'OD-R18 4x, no wd on bank': (
            OD4X, {**BN, **_paramwise({k: dict(decay_mult=0.0)
                                       for k in _bank_keys()})}),
        'OD-R18 4x, attention lr x0.1': (
            OD4X, {**BN, **_paramwise({'attention': dict(lr_mult=0.1)})}),
        'OD-R18 4x, no annealing': (OD4X, {**BN, **_hooks(anneal=0)}),
        'OD-R18 4x, attention heads start at zero': (
            OD4X, {**BN, **ZERO_HEADS}),
        'OD-R18 1x, attention norm none': (
            OD1X, NO_NORM),
    },
    'rtmdet_scratch': {
        'RTMDet-tiny static': (RTM, {}),
        'OD-RTMDet-tiny 4x': (RTM_OD4X, {}),
        'OD-RTMDet-tiny 4x, attention norm none': (
            RTM_OD4X, NO_NORM),
        'OD-RTMDet-tiny 1x': (RTM_OD4X, {ODCONV + 'kernel_num': 1}),
    },
    # What breaks OD-RTMDet-tiny: its diagnostics show the kernel softmax
    # sharpening and the attention's gradients growing 50-fold as the
    # temperature reaches 1. ('conv.attention' is ODConv's attention, not
    # the CSP layers' channel attention.)
    'rtmdet_probes': {
        'OD-RTMDet-tiny 4x, attention lr x0.1': (
            RTM_OD4X, _paramwise({'conv.attention': dict(lr_mult=0.1)})),
        'OD-RTMDet-tiny 4x, annealed over the whole schedule': (
            RTM_OD4X, _hooks(anneal=900)),
        'OD-RTMDet-tiny 4x, bank kernels start equal': (
            RTM_OD4X, _hooks(SHARED_BANK)),
        'OD-RTMDet-tiny 4x, attention heads start at zero': (
            RTM_OD4X, ZERO_HEADS),
        # zero heads and equal kernels: what loading a static checkpoint
        # gives, here from a random static conv
        'OD-RTMDet-tiny 4x, starts as a static conv': (
            RTM_OD4X, {**ZERO_HEADS, **_hooks(SHARED_BANK)}),
        'OD-RTMDet-tiny 1x, attention norm none': (
            RTM_OD4X, {ODCONV + 'kernel_num': 1, **NO_NORM}),
        'OD-RTMDet-tiny 4x, attention norm none, bank kernels start equal': (
            RTM_OD4X, {**NO_NORM, **_hooks(SHARED_BANK)}),
        'OD-RTMDet-tiny 1x, nn.Conv2d init': (
            RTM_OD4X, {ODCONV + 'kernel_num': 1, **_hooks(STATIC_INIT)}),
    },
}


def run_one(config: str, options: dict, seed: int, work_dir: str,
            data: str) -> dict:
    """Train and evaluate in this process; the metrics."""
    sys.path.insert(0, os.getcwd())
    from tools.demo import train_and_evaluate
    _register_probe_hooks()
    options = dict(options)
    options['randomness.seed'] = seed
    return train_and_evaluate(config, work_dir, data, options)


def summarise(rows: List[dict], names: List[str]) -> str:
    lines = ['| variant | box AP mean ± std | AP50 mean | seeds | per seed | '
             'train min (mean) |', '|---|---|---|---|---|---|']
    for name in names:
        done = sorted((r for r in rows if r['name'] == name),
                      key=lambda r: r['seed'])
        if not done:
            continue
        ap = [r['bbox_mAP'] for r in done]
        ap50 = [r['bbox_mAP_50'] for r in done]
        std = statistics.stdev(ap) if len(ap) > 1 else float('nan')
        mins = statistics.mean(r['train_minutes'] for r in done)
        per = ', '.join(f'{r["seed"]}: {r["bbox_mAP"]:.3f}' for r in done)
        lines.append(f'| {name} | {statistics.mean(ap):.3f} ± {std:.3f} | '
                     f'{statistics.mean(ap50):.3f} | {len(ap)} | {per} | '
                     f'{mins:.1f} |')
    return '\n'.join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('study', choices=sorted(STUDIES))
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--only', nargs='+', help='variant names to run')
    p.add_argument('--data', default='data/odconv_demo')
    p.add_argument('--work-dir', default='work_dirs/ablation')
    p.add_argument('--out', default=None,
                   help='default benchmarks/results/accuracy/<study>')
    p.add_argument('--plot', help='draw the loss curves into this PNG')
    p.add_argument('--worker', help=argparse.SUPPRESS)
    args = p.parse_args()
    variants = STUDIES[args.study]
    if args.plot:
        plot_curves(osp.join(args.work_dir, args.study),
                    args.only or list(variants), args.plot)
        return 0
    if args.worker:
        spec = json.loads(args.worker)
        met = run_one(*variants[spec['name']], spec['seed'],
                      spec['work_dir'], args.data)
        with open(spec['result'], 'w') as f:
            json.dump(met, f)
        return 0
    out = args.out or osp.join('benchmarks/results/accuracy', args.study)
    os.makedirs(osp.dirname(out), exist_ok=True)
    rows = []
    if osp.exists(out + '.jsonl'):
        with open(out + '.jsonl') as f:
            rows = [json.loads(line) for line in f if line.strip()]
    names = args.only or list(variants)
    for seed in args.seeds:  # seed-major: every variant gets seed 0 first
        for name in names:
            if any(r['name'] == name and r['seed'] == seed for r in rows):
                continue
            slug = name.replace(' ', '_').replace(',', '')
            work_dir = osp.join(args.work_dir, args.study, f'{slug}_s{seed}')
            result = work_dir + '.json'
            os.makedirs(osp.dirname(result), exist_ok=True)
            spec = dict(name=name, seed=seed, work_dir=work_dir,
                        result=result)
            t0 = time.time()
            rc = subprocess.call([
                sys.executable, __file__, args.study, '--data', args.data,
                '--worker', json.dumps(spec)], stdout=subprocess.DEVNULL)
            if rc != 0 or not osp.exists(result):
                print(f'[ablation] {name} seed {seed} failed (rc {rc})')
                continue
            with open(result) as f:
                met = json.load(f)
            row = dict(name=name, seed=seed, wall_minutes=(time.time() - t0)
                       / 60, threads=os.environ.get('OMP_NUM_THREADS'),
                       **met)
            rows.append(row)
            with open(out + '.jsonl', 'a') as f:
                f.write(json.dumps(row) + '\n')
            print(f'[ablation] {name} seed {seed}: {met["bbox_mAP"]:.3f}',
                  flush=True)
            write_table(out, args.study, rows, list(variants))
    write_table(out, args.study, rows, list(variants))
    return 0


def _loss_curve(work_dir: str) -> Dict[int, float]:
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    curve = {}
    for log in logs:  # a resumed run continues in a newer folder
        with open(log) as f:
            for line in f:
                rec = json.loads(line)
                if 'loss' in rec and 'iter' in rec:
                    curve[rec['iter']] = rec['loss']
    return curve


def plot_curves(root: str, names: List[str], out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        slug = name.replace(' ', '_').replace(',', '')
        curves = [_loss_curve(d) for d in sorted(
            glob.glob(osp.join(root, f'{slug}_s*'))) if osp.isdir(d)]
        curves = [c for c in curves if c]
        if not curves:
            continue
        iters = sorted(set.intersection(*(set(c) for c in curves)))
        ys = np.array([[c[i] for i in iters] for c in curves])
        ax.plot(iters, ys.mean(0), label=f'{name} ({len(curves)} seeds)')
        ax.fill_between(iters, ys.min(0), ys.max(0), alpha=0.2)
    ax.set_xlabel('iteration')
    ax.set_ylabel('training loss (20-iteration mean)')
    ax.set_ylim(top=1.6)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def write_table(out: str, study: str, rows: List[dict],
                names: List[str]) -> None:
    text = (f'# {study}: box AP on the demo val split, mean ± std over '
            f'seeds\n\nMachine: {platform.processor() or platform.machine()}'
            f', OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS")}; '
            f'{time.strftime("%Y-%m-%d")}; command: `python '
            f'benchmarks/demo_ablation.py {study}`\n\n'
            f'{summarise(rows, names)}\n')
    with open(out + '.md', 'w') as f:
        f.write(text)


if __name__ == '__main__':
    sys.exit(main())
