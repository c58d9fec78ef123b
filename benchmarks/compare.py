"""Before/after layer speed of two git revisions, interleaved in one run.

  .venv/bin/python benchmarks/compare.py --base COMMIT [bench_layer options]

Checks COMMIT out into a temporary git worktree and starts three worker
processes with the same threads and runtime setup: ``base`` and ``base2``
import ``mmdet_odconv`` from that worktree, ``new`` from this working tree.
For each case of the layer benchmark's grid they take turns (base, new,
base2) timing ``ODConv2d`` (impl='auto') with this tree's harness. base2/base
is the noise between two runs of the same code; a case is slower only where
new/base exceeds the largest such ratio.
"""
import argparse
import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def serve(root: str, conn, threads: int, runtime: bool) -> None:
    """Worker: import ``mmdet_odconv`` from ``root``, answer cases."""
    sys.path.insert(0, root)  # this revision's package before the installed
    import torch
    from harness import error_text, measure, module_step

    import mmdet_odconv
    torch.set_num_threads(threads)
    for name in ('utils', 'workbench'):  # where revisions keep it
        try:
            setup = importlib.import_module(f'mmdet_odconv.{name}.runtime')
        except ImportError:
            continue
        if runtime:
            setup.setup_runtime()
        break
    conn.send(mmdet_odconv.__file__)
    for c in iter(conn.recv, None):
        c_in, c_out, k, h, w = c['shape']
        try:
            torch.manual_seed(0)
            layer = mmdet_odconv.ODConv2d(c_in, c_out, k, padding=k // 2,
                                          kernel_num=c['kernel_num'])
            call = module_step(layer, torch.randn(c['batch'], c_in, h, w),
                               c['mode'])
            call()  # warm-up
            conn.send(measure({0: call}, c['rounds'], c['min_run_time'])[0])
        except Exception as err:  # noqa: BLE001  (shown in the table)
            conn.send({'error': error_text(err)})


def compare(args: argparse.Namespace, base: str) -> list:
    from bench_layer import layer_cases
    from report import geomean, label, table
    ctx, conns, procs = multiprocessing.get_context('spawn'), {}, []
    try:
        for name, root in (('base', base), ('new', ROOT), ('base2', base)):
            conns[name], child = ctx.Pipe()
            procs.append(ctx.Process(target=serve, args=(
                root, child, args.threads, not args.no_runtime_setup)))
            procs[-1].start()
            got = conns[name].recv()
            if not os.path.realpath(got).startswith(os.path.realpath(root)):
                raise SystemExit(f'the worker for {root} imported {got}')
        rows, ratios, noise = [], [], 1.0
        for case in (c for c in layer_cases(args) if c['status'] == 'ok'):
            case.update(rounds=args.rounds, min_run_time=args.min_run_time)
            t = {}
            for name, conn in conns.items():
                conn.send(case)
                t[name] = conn.recv().get('ms', float('nan'))
            ratio = t['new'] / (t['base'] * t['base2'])**0.5
            spread = t['base2'] / t['base']
            noise = max(noise, spread, 1 / spread)
            ratios.append((ratio, case))
            rows.append([label(case)] + [f'{t[n]:.3g}' for n in conns] +
                        [f'{ratio:.3f}', f'{spread:.3f}'])
            print(table([], rows[-1:])[-1], flush=True)
    finally:
        for conn in conns.values():
            conn.send(None)
        for proc in procs:
            proc.join()
    slow = [f'{label(c)} ({r:.2f})' for r, c in ratios if not r <= noise]
    return [
        f'# Layer speed: {args.base} (base) vs the working tree (new)', '',
        f'{args.threads} threads; {args.rounds} rounds of blocked_autorange '
        f'({args.min_run_time} s) per case and worker, in turn base, new, '
        'base2; new/base divides by the geometric mean of base and base2.',
        ''
    ] + table(('case', 'base ms', 'new ms', 'base2 ms', 'new/base',
               'base2/base'), rows) + [
        '', f'- geomean new/base: {geomean([r for r, _ in ratios]):.3f} '
        f'over {len(ratios)} cases',
        f'- noise (largest base2/base either way): {noise:.3f}',
        f"- slower than the noise: {', '.join(slow) or 'none'}"]


def main() -> int:
    from bench_layer import add_grid_args
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--base', required=True, help='the revision to compare')
    p.add_argument('--threads', type=int,
                   help="torch threads of every worker (default: torch's)")
    p.add_argument('--no-runtime-setup', action='store_true')
    add_grid_args(p)
    args = p.parse_args()
    args.device = 'cpu'
    if not args.threads:
        import torch
        args.threads = 1 if args.quick else torch.get_num_threads()
    tmp = tempfile.mkdtemp(prefix='odconv-base-')
    git = ['git', '-C', ROOT, 'worktree']
    subprocess.run(git + ['add', '--detach', tmp, args.base], check=True)
    try:
        print('\n'.join(compare(args, tmp)))
    finally:
        subprocess.run(git + ['remove', '--force', tmp])
    return 0


if __name__ == '__main__':
    sys.exit(main())
