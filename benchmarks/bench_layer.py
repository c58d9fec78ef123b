"""Layer benchmark: ODConv2d vs nn.Conv2d vs the official formulation.

Per shape, batch, kernel number and mode (eval: forward under no_grad;
train: forward + backward), ``static`` (nn.Conv2d), ``ours`` (ODConv2d),
``reference`` (FoldedODConv2d) and with ``--impls`` ``ours[<impl>]``, timed
interleaved; writes ``<out>.md`` and ``.png`` and checks the targets.
"""
import argparse
import copy
import itertools
import math
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.nn as nn
from harness import (DTYPES, START, add_common_args, error_text, measure, meta,
                     module_step, parse_shape, prepare, write)
from reference_odconv import FoldedODConv2d
from report import label, layer_markdown, layer_plot, layer_summary

from mmdet_odconv import ODConv2d

SHAPES = [(64, 64, 3, 100, 168), (256, 256, 3, 50, 84), (512, 512, 3, 25, 42),
          (64, 64, 3, 56, 56), (256, 256, 3, 14, 14), (256, 1024, 1, 50, 84),
          (1024, 256, 1, 50, 84)]
QUICK_SHAPES = [(64, 64, 3, 56, 56), (1024, 256, 1, 50, 84)]


def add_grid_args(p: argparse.ArgumentParser) -> None:
    """The grid of cases (shared with floor.py and compare.py)."""
    p.add_argument('--shapes', nargs='+', type=parse_shape,
                   help='C_inxC_outxkxHxW, e.g. 64x64x3x56x56 (default: '
                   f'{len(SHAPES)} detection shapes; --quick {QUICK_SHAPES})')
    p.add_argument('--batches', nargs='+', type=int,
                   help='default 1 2 8 32; --quick 1 2')
    p.add_argument('--kernel-nums', nargs='+', type=int, default=[1, 4])
    p.add_argument('--modes', nargs='+', choices=['train', 'eval'],
                   default=['train', 'eval'])
    p.add_argument('--max-gflop', type=float, help='skip cases whose static '
                   'conv needs more GFLOP per call, train counted 3x '
                   '(default 100 CPU, 0 = none)')


def layer_cases(args: argparse.Namespace) -> List[Dict[str, Any]]:
    """Fill in the grid's defaults; every (shape, n, mode, B), with status
    'skipped: ...' above --max-gflop."""
    args.shapes = args.shapes or (QUICK_SHAPES if args.quick else SHAPES)
    args.batches = args.batches or ([1, 2] if args.quick else [1, 2, 8, 32])
    if args.max_gflop is None:
        args.max_gflop = 0 if args.device == 'cuda' else 100
    cases = []
    for (c_in, c_out, k, h, w), n, mode, b in itertools.product(
            args.shapes, args.kernel_nums, args.modes, args.batches):
        gflop = (2e-9 * b * c_in * c_out * k * k * h * w *
                 (3 if mode == 'train' else 1))
        skip = args.max_gflop and gflop > args.max_gflop
        cases.append(dict(shape=[c_in, c_out, k, h, w], batch=b, kernel_num=n,
                          mode=mode, status=f'skipped: {gflop:.0f} GFLOP > '
                          f'--max-gflop {args.max_gflop:g}' if skip else 'ok'))
    return cases


def run_case(case: Dict[str, Any], args: argparse.Namespace,
             steps: Optional[Callable] = None) -> None:
    """Time every method on one case, and the calls ``steps(ours, x,
    case)`` returns; results go into ``case``."""
    c_in, c_out, k, h, w = case['shape']
    b, n = case['batch'], case['kernel_num']
    device, dtype = torch.device(args.device), DTYPES[args.dtype]
    torch.manual_seed(0)
    ours = ODConv2d(c_in, c_out, k, padding=k // 2, kernel_num=n)
    mods = dict(static=nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                ours=ours, reference=FoldedODConv2d.from_odconv(ours))
    for impl in ours.applicable_impls() if args.impls else ():
        mods[f'ours[{impl}]'] = copy.deepcopy(ours)
        mods[f'ours[{impl}]'].impl = impl
    x = torch.randn(b, c_in, h, w, device=device, dtype=dtype)
    calls = {m: module_step(mod.to(device), x, case['mode'], dtype)
             for m, mod in mods.items()}
    calls.update(steps(ours, x, case) if steps else {})
    res = measure(calls, args.rounds, args.min_run_time,
                  memory=device.type == 'cuda')
    if steps:  # the floor: the steps' sum
        res['floor'] = dict(ms=sum(res[m].get('ms', math.nan)
                                   for m in calls if m not in mods))
    case.update(auto_impl=ours.choose_impl(b), results=res)


def main(doc: str = __doc__, steps: Optional[Callable] = None,
         **defaults: Any) -> int:
    """The layer benchmark; with ``steps`` (floor.py), the calls it returns
    per case timed too, and their sum, the floor."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_common_args(p)
    add_grid_args(p)
    p.add_argument('--impls', action='store_true',
                   help='also time every formulation the layer takes')
    p.add_argument('--time-limit', type=float, default=0,
                   help='total seconds; later cases are skipped (0: none)')
    p.set_defaults(**defaults)
    args = p.parse_args()
    data = dict(cases=layer_cases(args))
    info = prepare(args, 'floor' if steps else 'layer')
    for i, case in enumerate(data['cases']):
        late = 0 < args.time_limit < time.perf_counter() - START
        if case['status'] == 'ok' and late:
            case['status'] = f'skipped: --time-limit {args.time_limit:g} s'
        if case['status'] == 'ok':
            try:
                run_case(case, args, steps)
            except Exception as err:  # noqa: BLE001  (e.g. OOM building)
                case['status'] = f'error: {error_text(err)}'
        done = ', '.join(f"{m} {r.get('ms', 0):.3g}"
                         for m, r in case.get('results', {}).items())
        print(f"[{i + 1}/{len(data['cases'])}] {label(case)}: "
              f"{done + ' ms' if done else case['status']}", flush=True)
        data['meta'] = meta(args, info)
        write(args.out, layer_markdown(data))
    lines, targets = layer_summary(data['cases'])
    print('\n'.join(lines + [f'[{s}] {n}: {d}' for n, s, d in targets]))
    note = layer_plot(args.out + '.png', data)
    print(f'wrote {args.out}.md' + (f'; {note}' if note else ', .png'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
