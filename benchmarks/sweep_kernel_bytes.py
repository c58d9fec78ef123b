"""Sweep ``ODConv2d.kernel_bytes``: samples per chunk of ``grouped``, 1, 2,
4, ... and the whole batch, interleaved, to set it for a device.
"""
import argparse
import itertools
import sys

import torch
from harness import (DTYPES, add_common_args, measure, meta, module_step,
                     parse_shape, prepare, shape_name, write)
from report import header, table

from mmdet_odconv import ODConv2d


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p)
    p.add_argument('--shapes', nargs='+', type=parse_shape,
                   default=[(256, 256, 3, 14, 14), (512, 512, 3, 25, 42),
                            (64, 64, 3, 56, 56)])
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--samples', nargs='+', type=int, default=[1, 2, 4, 8])
    p.add_argument('--kernel-nums', nargs='+', type=int, default=[1, 4])
    p.add_argument('--modes', nargs='+', default=['eval', 'train'])
    args = p.parse_args()
    info = prepare(args, 'kernel_bytes')
    chunks = sorted({s for s in args.samples if s < args.batch} |
                    {args.batch})
    lines = table(['shape', 'n', 'mode'] + [f'{c}/chunk' for c in chunks], [])
    print('\n'.join(lines), flush=True)
    for (c_in, c_out, k, h, w), n, mode in itertools.product(
            args.shapes, args.kernel_nums, args.modes):
        torch.manual_seed(0)
        layer = ODConv2d(c_in, c_out, k, padding=k // 2, kernel_num=n,
                         impl='grouped').to(args.device)
        step = module_step(layer, torch.randn(
            args.batch, c_in, h, w, device=args.device), mode,
            DTYPES[args.dtype])
        per_sample = 4 * layer.weight[0].numel()  # float32 kernels

        def chunked(c: int) -> None:
            layer.kernel_bytes = {torch.device(args.device).type:
                                  c * per_sample}
            step()

        t = measure({c: (lambda c=c: chunked(c)) for c in chunks},
                    args.rounds, args.min_run_time)
        t = {c: r.get('ms', float('nan')) for c, r in t.items()}
        lines += table([], [[shape_name((c_in, c_out, k, h, w)), n, mode] + [
            f'{t[c]:.3g} ({t[c] / t[args.batch]:.2f})' for c in chunks]])[-1:]
        print(lines[-1], flush=True)
    write(args.out, header('ODConv2d kernel_bytes sweep', meta(args, info), [
        f"B={args.batch}, impl='grouped': median ms per number of samples "
        f'per chunk (ratio to one chunk of {args.batch}).']) + lines)
    print(f'wrote {args.out}.md')
    return 0


if __name__ == '__main__':
    sys.exit(main())
