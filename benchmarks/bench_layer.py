"""Layer benchmark: ODConv2d vs nn.Conv2d vs the official formulation.

For every shape (C_in, C_out, k, H, W) (stride 1, padding k // 2), batch B,
kernel number n and mode (``eval``: forward under no_grad; ``train``:
forward + backward) it times, interleaved in one process, ``static``
(``nn.Conv2d``), ``ours`` (``ODConv2d``, impl='auto'), ``reference``
(``FoldedODConv2d``, the official formulation) and, with ``--impls``,
``ours[<impl>]`` for each formulation the layer takes. Writes ``<out>.md``,
``.json`` and ``.png`` and checks the targets (benchmarks/README.md).
"""
import argparse
import math
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.nn as nn
from harness import (DTYPES, add_common_args, error_text, measure, meta,
                     module_step, parse_shape, prepare, warm_up, write)
from reference_odconv import FoldedODConv2d
from report import label, layer_markdown, layer_plot, layer_summary

from mmdet_odconv import IMPLS, ODConv2d

SHAPES = [(64, 64, 3, 100, 168), (256, 256, 3, 50, 84), (512, 512, 3, 25, 42),
          (64, 64, 3, 56, 56), (256, 256, 3, 14, 14), (256, 1024, 1, 50, 84),
          (1024, 256, 1, 50, 84)]
QUICK_SHAPES = [(64, 64, 3, 56, 56), (1024, 256, 1, 50, 84)]


def add_grid_args(p: argparse.ArgumentParser) -> None:
    """The cases and the timing (shared with compare.py)."""
    p.add_argument('--quick', action='store_true', help='smoke run: shapes '
                   f'{QUICK_SHAPES}, B 1 2, short timing, 1 thread')
    p.add_argument('--shapes', nargs='+', type=parse_shape,
                   help='C_inxC_outxkxHxW, e.g. 64x64x3x56x56')
    p.add_argument('--batches', nargs='+', type=int)
    p.add_argument('--kernel-nums', nargs='+', type=int, default=[1, 4])
    p.add_argument('--modes', nargs='+', choices=['train', 'eval'],
                   default=['train', 'eval'])
    p.add_argument('--rounds', type=int, help='interleaved timing rounds '
                   '(default 3, 2 with --quick)')
    p.add_argument('--min-run-time', type=float, help='blocked_autorange '
                   'seconds per method and round (default 0.3 CPU, 0.05 '
                   'CUDA or --quick)')
    p.add_argument('--max-gflop', type=float, help='skip cases whose static '
                   'conv needs more GFLOP per call, train counted 3x '
                   '(default 100 CPU, 0 = none)')


def layer_cases(args: argparse.Namespace) -> List[Dict[str, Any]]:
    """Fill in the grid's defaults; every (shape, n, mode, B), with status
    'skipped: ...' above --max-gflop."""
    cuda, quick = args.device == 'cuda', args.quick
    args.shapes = args.shapes or (QUICK_SHAPES if quick else SHAPES)
    args.batches = sorted(args.batches or ([1, 2] if quick else [1, 2, 8,
                                                                 32]))
    args.rounds = args.rounds or (2 if quick else 3)
    args.min_run_time = args.min_run_time or (.05 if quick or cuda else .3)
    if args.max_gflop is None:
        args.max_gflop = 0 if cuda else 100
    cases = []
    for c_in, c_out, k, h, w in args.shapes:
        for n in args.kernel_nums:
            for mode in args.modes:
                for b in args.batches:
                    gflop = (2e-9 * b * c_in * c_out * k * k * h * w *
                             (3 if mode == 'train' else 1))
                    skip = args.max_gflop and gflop > args.max_gflop
                    cases.append(dict(
                        shape=[c_in, c_out, k, h, w], batch=b, kernel_num=n,
                        mode=mode, status=f'skipped: {gflop:.0f} GFLOP > '
                        f'--max-gflop {args.max_gflop:g}' if skip else 'ok'))
    return cases


def run_case(case: Dict[str, Any], args: argparse.Namespace,
             steps: Optional[Callable] = None) -> None:
    """Time every method on one case, and the calls ``steps(ours, x,
    case)`` returns (floor.py); results go into ``case``."""
    c_in, c_out, k, h, w = case['shape']
    b, n = case['batch'], case['kernel_num']
    device, dtype = torch.device(args.device), DTYPES[args.dtype]
    torch.manual_seed(0)
    ours = ODConv2d(c_in, c_out, k, padding=k // 2, kernel_num=n)
    mods = dict(static=nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                ours=ours, reference=FoldedODConv2d.from_odconv(ours))
    for impl in ours.applicable_impls() if args.impls else ():
        mods[f'ours[{impl}]'] = ODConv2d(c_in, c_out, k, padding=k // 2,
                                         kernel_num=n, impl=impl)
        mods[f'ours[{impl}]'].load_state_dict(ours.state_dict())
    x = torch.randn(b, c_in, h, w, device=device, dtype=dtype)
    calls = {m: module_step(mod.to(device), x, case['mode'], dtype)
             for m, mod in mods.items()}
    calls.update(steps(ours, x, case) if steps else {})
    res = warm_up(calls)
    res.update(measure(calls, args.rounds, args.min_run_time,
                       memory=device.type == 'cuda'))
    case.update(auto_impl=ours.choose_impl(b), results=res)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p)
    add_grid_args(p)
    p.add_argument('--impls', action='store_true',
                   help='also time every formulation the layer takes')
    p.add_argument('--tolerance', type=float, default=0.05,
                   help='timing noise the ours <= reference target allows')
    p.add_argument('--time-limit', type=float, default=0,
                   help='total seconds; later cases are skipped (0: none)')
    args = p.parse_args()
    data = dict(cases=layer_cases(args))
    info = prepare(args, 'layer')
    start = time.perf_counter()
    for i, case in enumerate(data['cases']):
        late = time.perf_counter() - start > (args.time_limit or math.inf)
        if case['status'] == 'ok' and late:
            case['status'] = f'skipped: --time-limit {args.time_limit:g} s'
        if case['status'] == 'ok':
            try:
                run_case(case, args)
            except Exception as err:  # noqa: BLE001  (e.g. OOM building)
                case['status'] = f'error: {error_text(err)}'
        done = ', '.join(f"{m} {r.get('ms', 0):.3g}"
                         for m, r in case.get('results', {}).items())
        print(f"[{i + 1}/{len(data['cases'])}] {label(case)}: "
              f"{done + ' ms' if done else case['status']}", flush=True)
        data['meta'] = meta(args, info, impls=IMPLS, rounds=args.rounds,
                            quick=args.quick, min_run_time=args.min_run_time)
        write(args.out, data)  # partial results survive
    write(args.out, data, layer_markdown(data, args.tolerance))
    note = layer_plot(args.out + '.png', data)
    lines, targets = layer_summary(data['cases'], args.tolerance)
    print('\n'.join(['', 'Summary'] + lines + [
        f'  [{status}] {name}: {detail}' for name, status, detail in targets
    ] + [f'wrote {args.out}.md, .json' + (f' ({note})' if note else
                                          ', .png')]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
