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
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.nn.functional as F
from bench_layer import run_case
from harness import (Call, add_common_args, meta, parse_shape, prepare,
                     write)
from report import FLOOR_HEAD, floor_markdown, floor_row, table

from mmdet_odconv import ODConv2d

SHAPES_3X3 = ('64x64x3x100x168', '256x256x3x50x84', '512x512x3x25x42',
              '64x64x3x56x56', '256x256x3x14x14')
# Where bench_layer.py's targets failed on the 2-core CPU.
DEFAULT_CASES = ([f'{s}:1:{n}:eval' for s in SHAPES_3X3 for n in (1, 4)] +
                 [f'256x256x3x14x14:{b}:4:{m}' for b in (2, 8)
                  for m in ('eval', 'train')])
QUICK_CASES = ['256x256x3x14x14:1:4:eval', '256x256x3x14x14:2:4:train']


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
               case: Dict[str, Any]) -> Dict[str, Call]:
    """One call per step the layer takes on ``x``."""
    train = case['mode'] == 'train'
    batch, chunk = x.size(0), layer.batch_chunk(x) if x.size(0) > 1 else 1
    case['chunked'] = chunk < batch
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


def parse_case(text: str) -> Dict[str, Any]:
    parts = text.split(':')
    if (len(parts) != 4 or parts[3] not in ('eval', 'train') or
            not (parts[1] + parts[2]).isdigit()):
        raise argparse.ArgumentTypeError(
            f'a case is CinxCoutxKxHxW:B:N:MODE, e.g. 256x256x3x14x14:1:4:'
            f'eval, not {text!r}')
    return dict(shape=list(parse_shape(parts[0])), batch=int(parts[1]),
                kernel_num=int(parts[2]), mode=parts[3])


def main() -> int:
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
    p.set_defaults(dtype='float32', impls=False)  # as bench_layer.py's
    args = p.parse_args()
    if args.quick:
        args.rounds, args.min_run_time = 2, 0.05
    info = prepare(args, 'floor')
    print('\n'.join(table(FLOOR_HEAD, [])), flush=True)
    cases = args.cases or [parse_case(c) for c in (
        QUICK_CASES if args.quick else DEFAULT_CASES)]
    for case in cases:
        run_case(case, args, step_calls)
        print(table([], [floor_row(case)])[-1], flush=True)
    data = dict(meta=meta(args, info, rounds=args.rounds, quick=args.quick),
                cases=cases)
    write(args.out, data, floor_markdown(data))
    print(f'wrote {args.out}.md and {args.out}.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
