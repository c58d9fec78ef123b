"""Before/after layer speed of two git revisions, interleaved in one run.

Workers ``base`` and ``base2`` import ``mmdet_odconv`` from a temporary
worktree of ``--base``, ``new`` from this working tree; case by case of the
layer grid they take turns timing ``ODConv2d`` (impl='auto').
"""
import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile

import torch
from harness import (DTYPES, add_common_args, error_text, measure, meta,
                     module_step, prepare, write)
from report import geomean, header, label, table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def serve(root: str, conn, threads: int, runtime: bool) -> None:
    """Worker: import ``mmdet_odconv`` from ``root``, answer cases."""
    sys.path.insert(0, root)  # this revision's package before the installed
    import mmdet_odconv
    torch.set_num_threads(threads)
    if runtime:  # where each revision keeps it
        try:
            from mmdet_odconv.utils.runtime import setup_runtime
        except ImportError:
            from mmdet_odconv.workbench.runtime import setup_runtime
        setup_runtime()
    conn.send(mmdet_odconv.__file__)
    for c in iter(conn.recv, None):
        c_in, c_out, k, h, w = c['shape']
        try:
            torch.manual_seed(0)
            layer = mmdet_odconv.ODConv2d(c_in, c_out, k, padding=k // 2,
                                          kernel_num=c['kernel_num'])
            x = torch.randn(c['batch'], c_in, h, w, device=c['device'],
                            dtype=DTYPES[c['dtype']])
            call = module_step(layer.to(c['device']), x, c['mode'], x.dtype)
            conn.send(measure({0: call}, c['rounds'], c['min_run_time'])[0])
        except Exception as err:  # noqa: BLE001  (shown in the table)
            conn.send({'error': error_text(err)})


def compare(args: argparse.Namespace, base: str) -> list:
    """The grid's cases, each with the three workers' ``ms``."""
    from bench_layer import layer_cases
    ctx, conns, procs, cases = multiprocessing.get_context('spawn'), {}, [], []
    try:
        for name, root in (('base', base), ('new', ROOT), ('base2', base)):
            conns[name], child = ctx.Pipe()
            procs.append(ctx.Process(target=serve, args=(
                root, child, torch.get_num_threads(),
                not args.no_runtime_setup)))
            procs[-1].start()
            got = conns[name].recv()
            if not os.path.realpath(got).startswith(os.path.realpath(root)):
                raise SystemExit(f'the worker for {root} imported {got}')
        for case in (c for c in layer_cases(args) if c['status'] == 'ok'):
            case.update(rounds=args.rounds, min_run_time=args.min_run_time,
                        device=args.device, dtype=args.dtype, ms={})
            for name, conn in conns.items():  # in turn
                conn.send(case)
                case['ms'][name] = conn.recv().get('ms', float('nan'))
            t = case['ms']
            case.update(ratio=t['new'] / (t['base'] * t['base2'])**0.5,
                        spread=t['base2'] / t['base'])
            cases.append(case)
            print(f'{label(case)}: ' + ', '.join(
                f'{n} {v:.3g} ms' for n, v in t.items()), flush=True)
    finally:
        for conn in conns.values():
            conn.send(None)
        for proc in procs:
            proc.join()
    return cases


def main() -> int:
    from bench_layer import add_grid_args
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--base', required=True, help='the revision to compare')
    add_common_args(p)
    add_grid_args(p)
    args = p.parse_args()
    info = prepare(args, 'compare')
    tmp = tempfile.mkdtemp(prefix='odconv-base-')
    git = ['git', '-C', ROOT, 'worktree']
    subprocess.run(git + ['add', '--detach', tmp, args.base], check=True)
    try:
        cases = compare(args, tmp)
    finally:
        subprocess.run(git + ['remove', '--force', tmp])
    noise = max([1.0] + [max(c['spread'], 1 / c['spread']) for c in cases])
    slow = [f"{label(c)} ({c['ratio']:.2f})" for c in cases
            if not c['ratio'] <= noise]
    md = header(f'Layer speed: {args.base} (base) vs the working tree',
                meta(args, info), [
                    'Workers in turn per case: base, new, base2 (base again);'
                    ' new/base divides by the geometric mean of both.'
                ]) + table(('case', 'base ms', 'new ms', 'base2 ms',
                            'new/base', 'base2/base'), [
                    [label(c)] + [f'{v:.3g}' for v in c['ms'].values()] +
                    [f"{c['ratio']:.3f}", f"{c['spread']:.3f}"]
                    for c in cases])
    md += ['', '- geomean new/base: {:.3f} over {} cases'.format(
        geomean([c['ratio'] for c in cases] or [1]), len(cases)),
        f'- noise (largest base2/base either way): {noise:.3f}',
        f"- slower than the noise: {', '.join(slow) or 'none'}"]
    write(args.out, md)
    print('\n'.join(md))
    return 0


if __name__ == '__main__':
    sys.exit(main())
