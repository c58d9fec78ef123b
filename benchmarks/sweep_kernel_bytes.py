"""Sweep ``ODConv2d.kernel_bytes``: samples per chunk of ``grouped``.

Times ``impl='grouped'`` with ``kernel_bytes`` holding 1, 2, 4, ... samples'
kernels and the whole batch, interleaved, and writes a markdown table of
the medians and their ratio to the whole batch, to set it for a device.
"""
import argparse
import sys

import torch
from harness import (add_common_args, measure, meta, module_step,
                     parse_shape, prepare, shape_name, write)
from report import header, table

from mmdet_odconv import ODConv2d


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, dtype=False)
    p.add_argument('--shapes', nargs='+', type=parse_shape,
                   default=[(256, 256, 3, 14, 14), (512, 512, 3, 25, 42),
                            (64, 64, 3, 56, 56)])
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--samples', nargs='+', type=int, default=[1, 2, 4, 8])
    p.add_argument('--kernel-nums', nargs='+', type=int, default=[1, 4])
    p.add_argument('--modes', nargs='+', default=['eval', 'train'])
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--min-run-time', type=float, default=0.3)
    args = p.parse_args()
    info = prepare(args, 'kernel_bytes')
    device = torch.device(args.device)
    chunks = sorted({s for s in args.samples if s < args.batch}
                    | {args.batch})
    lines = table(['shape', 'n', 'mode'] + [f'{c}/chunk' for c in chunks], [])
    print('\n'.join(lines), flush=True)
    cases = []
    for shape in args.shapes:
        c_in, c_out, k, h, w = shape
        for n in args.kernel_nums:
            torch.manual_seed(0)
            layer = ODConv2d(c_in, c_out, k, padding=k // 2, kernel_num=n,
                             impl='grouped').to(device)
            x = torch.randn(args.batch, c_in, h, w, device=device)
            for mode in args.modes:
                step = module_step(layer, x, mode)

                def chunked(c: int) -> None:
                    per_sample = 4 * layer.weight[0].numel()  # float32
                    layer.kernel_bytes = {device.type: c * per_sample}
                    step()

                calls = {c: (lambda c=c: chunked(c)) for c in chunks}
                for call in calls.values():
                    call()  # warm-up
                t = measure(calls, args.rounds, args.min_run_time)
                t = {c: r['ms'] for c, r in t.items()}
                cases.append(dict(shape=shape, kernel_num=n, mode=mode, ms=t))
                lines += table([], [[shape_name(shape), n, mode] + [
                    f'{t[c]:.3g} ({t[c] / t[args.batch]:.2f})'
                    for c in chunks]])[-1:]
                print(lines[-1], flush=True)
    data = dict(meta=meta(args, info, rounds=args.rounds), cases=cases)
    write(args.out, data, header('ODConv2d kernel_bytes sweep', data['meta'], [
        f"B={args.batch}, impl='grouped': median ms per number of samples "
        f'per chunk (ratio to one chunk of {args.batch}).']) + lines)
    print(f'wrote {args.out}.md and {args.out}.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
