"""Sweep ``ODConv2d.kernel_bytes``: how many samples the ``grouped`` path
builds kernels for at once.

  .venv/bin/python benchmarks/sweep_kernel_bytes.py [--device cuda]
      [--shapes 256x256x3x14x14 ...] [--batch 32] [--samples 1 2 4 8 32]

For each shape, kernel number and mode it times ``impl='grouped'`` with
``kernel_bytes`` set to hold 1, 2, 4, ... samples' kernels (and the whole
batch), interleaved in one process, and prints the medians and the ratio to
the whole-batch run. Use it to retune the default (24 MiB, chosen on a
2-core CPU) for another machine; it is a measurement, not a test.
"""
import argparse
import os.path as osp
import statistics
import sys
from typing import List, Optional, Sequence

import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from mmdet_odconv import ODConv2d  # noqa: E402
from bench_layer import (Runner, apply_runtime_setup, machine_info,  # noqa
                         machine_line, parse_shape, shape_name)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--shapes', nargs='+', type=parse_shape,
                   default=[(256, 256, 3, 14, 14), (512, 512, 3, 25, 42),
                            (64, 64, 3, 56, 56)])
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--samples', nargs='+', type=int, default=[1, 2, 4, 8])
    p.add_argument('--kernel-nums', nargs='+', type=int, default=[1, 4])
    p.add_argument('--modes', nargs='+', default=['eval', 'train'],
                   choices=['eval', 'train'])
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int)
    p.add_argument('--no-runtime-setup', action='store_true')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    runtime = apply_runtime_setup(not args.no_runtime_setup)
    device = torch.device(args.device)
    runner = Runner(device, torch.float32)
    info = machine_info(device)
    info['runtime'] = runtime
    print(machine_line(info))
    chunks: List[int] = sorted({s for s in args.samples if s < args.batch}
                               | {args.batch})
    head = ' | '.join(f'{c}/chunk' for c in chunks)
    print(f'\nB={args.batch}, grouped impl, median ms (ratio to one chunk '
          f'of {args.batch})\n')
    print(f'| shape | n | mode | {head} |')
    print('|---|---|---|' + '---|' * len(chunks))
    for shape in args.shapes:
        c_in, c_out, k, h, w = shape
        for n in args.kernel_nums:
            torch.manual_seed(0)
            layer = ODConv2d(c_in, c_out, k, padding=k // 2, kernel_num=n,
                             impl='grouped').to(device)
            per_sample = layer.weight.numel() // n * 4
            x = torch.randn(args.batch, c_in, h, w, device=device)
            for mode in args.modes:
                call, reset = runner.make_call(layer, x, mode)
                times = {c: [] for c in chunks}
                for r in range(args.repeats + 1):  # the first is a warm-up
                    for c in chunks:
                        layer.kernel_bytes = {device.type: c * per_sample}
                        t = runner.time_call(call, reset)
                        if r:
                            times[c].append(t)
                med = {c: statistics.median(v) * 1e3
                       for c, v in times.items()}
                whole = med[args.batch]
                cells = ' | '.join(f'{med[c]:.3g} ({med[c] / whole:.2f})'
                                   for c in chunks)
                print(f'| {shape_name(shape)} | {n} | {mode} | {cells} |',
                      flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
