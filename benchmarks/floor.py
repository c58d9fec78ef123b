"""Floor of ODConv2d's cost: the layer's steps timed one at a time.

Where ``bench_layer.py`` finds a target out of reach, this shows why: it
times the steps every exact formulation takes (``attention``; ``kernels``,
the samples' kernels from the bank; ``conv`` with those ready-made kernels,
batch folded into groups in ``batch_chunk`` chunks; ``scale``, attentions
on activations when not folded into the kernels), each alone, interleaved
with the whole layer (impl='auto'), ``nn.Conv2d`` and the official
formulation. Their sum, the floor, is the layer without glue (see
benchmarks/README.md for how to read it).
"""
import argparse
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from harness import (Call, Shape, add_common_args, default_out, measure, meta,
                     module_step, parse_shape, prepare, shape_name, write)
from reference_odconv import FoldedODConv2d
from report import floor_markdown

from mmdet_odconv import ODConv2d

Case = Tuple[Shape, int, int, str]  # shape, batch, kernel_num, mode
SHAPES_3X3 = [(64, 64, 3, 100, 168), (256, 256, 3, 50, 84),
              (512, 512, 3, 25, 42), (64, 64, 3, 56, 56),
              (256, 256, 3, 14, 14)]
# Where bench_layer.py's targets failed on the 2-core CPU.
DEFAULT_CASES: List[Case] = (
    [(s, 1, n, 'eval') for s in SHAPES_3X3 for n in (1, 4)] +
    [((256, 256, 3, 14, 14), b, 4, m) for b in (2, 8)
     for m in ('eval', 'train')])
QUICK_CASES: List[Case] = [((256, 256, 3, 14, 14), 1, 4, 'eval'),
                           ((256, 256, 3, 14, 14), 2, 4, 'train')]
STEPS = ('attention', 'kernels', 'conv', 'scale')


def timed(fn: Callable, *inputs: Optional[torch.Tensor], train: bool) -> Call:
    """``fn`` on leaf copies of ``inputs``; in training also the backward
    of fixed random gradients of its outputs."""
    grads: List[torch.Tensor] = []

    def call() -> None:
        with torch.set_grad_enabled(train):
            outs = fn(*(t if t is None else t.detach().requires_grad_(train)
                        for t in inputs))
            outs = [o for o in outs if o is not None]
            if train:
                grads[:] = grads or [torch.randn_like(o) for o in outs]
                torch.autograd.backward(outs, grads)

    return call


def step_calls(layer: ODConv2d, x: torch.Tensor,
               train: bool) -> Dict[str, Call]:
    """One call per step the layer takes on ``x``."""
    batch, chunk = x.size(0), layer.batch_chunk(x) if x.size(0) > 1 else 1
    with torch.no_grad():
        att = layer.attention(x)
        fold = layer.folds_attention(x)
        xs = x if fold else x * att[0][:, :, None, None]
        w = layer.sample_kernels(*att, fold=fold)
        y = F.conv2d(xs[:1], w[0], None, layer.stride, layer.padding,
                     layer.dilation, layer.groups).expand(batch, -1, -1, -1)

    def conv(xs: torch.Tensor, w: torch.Tensor) -> List[torch.Tensor]:
        """The batch folded into groups, ``chunk`` samples at a time."""
        h, wd = xs.shape[-2:]
        return [F.conv2d(xs[i:i + chunk].reshape(1, -1, h, wd),
                         w[i:i + chunk].flatten(0, 1), None, layer.stride,
                         layer.padding, layer.dilation,
                         layer.groups * len(w[i:i + chunk]))
                for i in range(0, batch, chunk)]

    def scale(x, channel, y, filt) -> List[Optional[torch.Tensor]]:
        return [x * channel[:, :, None, None],
                None if filt is None else y * filt[:, :, None, None]]

    calls = dict(
        attention=timed(layer.attention, x, train=train),
        kernels=timed(lambda *a: [layer.sample_kernels(*a, fold=fold)], *att,
                      train=train),
        conv=timed(conv, xs, w, train=train))
    if not fold:
        calls['scale'] = timed(scale, x, att[0], y, att[1], train=train)
    return calls


def run_case(case: Case, args: argparse.Namespace) -> Dict[str, Any]:
    (c_in, c_out, k, h, w), batch, n, mode = case
    device = torch.device(args.device)
    torch.manual_seed(0)
    ours = ODConv2d(c_in, c_out, k, padding=k // 2, kernel_num=n).to(device)
    mods = dict(static=nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                ours=ours, reference=FoldedODConv2d.from_odconv(ours))
    x = torch.randn(batch, c_in, h, w, device=device)
    calls = {m: module_step(mod.to(device), x, mode)
             for m, mod in mods.items()}
    calls.update(step_calls(ours, x, mode == 'train'))
    for call in calls.values():
        call()  # warm-up
    res = measure(calls, args.rounds, args.min_run_time)
    t = {m: r['ms'] for m, r in res.items()}
    t['floor'] = sum(t.get(s, 0.0) for s in STEPS)
    return dict(shape=[c_in, c_out, k, h, w], batch=batch, kernel_num=n,
                mode=mode, auto_impl=ours.choose_impl(batch), results=res,
                floor_ms=t['floor'],
                chunked=batch > 1 and ours.batch_chunk(x) < batch, ratios={
                    f'{a}/{b}': t[a] / t[b]
                    for a, b in (('ours', 'static'), ('floor', 'static'),
                                 ('conv', 'static'), ('ours', 'reference'),
                                 ('floor', 'reference'),
                                 ('reference', 'static'))})


def parse_case(text: str) -> Case:
    try:
        shape, batch, n, mode = text.split(':')
        assert mode in ('eval', 'train')
        return parse_shape(shape), int(batch), int(n), mode
    except (ValueError, AssertionError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f'a case is CinxCoutxKxHxW:B:N:MODE, e.g. 256x256x3x14x14:1:4:'
            f'eval, not {text!r}')


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, dtype=False)
    p.add_argument('--cases', nargs='+', type=parse_case,
                   metavar='SHAPE:B:N:MODE', help='e.g. 256x256x3x14x14:1:4:'
                   "eval (default: where bench_layer.py's targets failed)")
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--min-run-time', type=float, default=0.3,
                   help='seconds of blocked_autorange per step and round')
    p.add_argument('--quick', action='store_true',
                   help='two small cases, short timing (a smoke run)')
    args = p.parse_args(argv)
    args.out = args.out or default_out(args, 'floor')
    if args.quick:
        args.rounds, args.min_run_time = 2, 0.05
    info = prepare(args)
    start = time.perf_counter()
    results = []
    for case in args.cases or (QUICK_CASES if args.quick else DEFAULT_CASES):
        res = run_case(case, args)
        print(f'{shape_name(case[0])} B={case[1]} n={case[2]} {case[3]}: ' +
              ', '.join(f'{k} {v:.2f}' for k, v in res['ratios'].items()),
              flush=True)
        results.append(res)
    data = dict(meta=meta(args, info, start, rounds=args.rounds),
                cases=results)
    write(args.out, data, floor_markdown(data, STEPS))
    print(f'wrote {args.out}.md and {args.out}.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
