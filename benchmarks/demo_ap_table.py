"""Box AP of baseline, ODConv 1x and 4x trained on the demo data with the
same schedule and seed (``--no-anneal``: without temperature annealing;
``--rtmdet``: RTMDet-tiny, static and ODConv 4x).

  .venv/bin/python -m benchmarks.demo_ap_table [--reuse] [--no-anneal|--rtmdet]
"""
import argparse
import os
import platform
import sys
import time

from tools.analysis_tools.collect_results import read_metrics
from tools.demo import format_table, train_and_evaluate

RUNS = (('R18 (static)', 'configs/demo/faster-rcnn_r18_fpn_demo.py'),
        ('OD-R18 1x', 'configs/demo/faster-rcnn_r18-odconv1x_fpn_demo.py'),
        ('OD-R18 4x', 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'))
RTMDET = (('RTMDet-tiny (static)', 'configs/demo/rtmdet_tiny_demo.py'),
          ('OD-RTMDet-tiny 4x', 'configs/demo/rtmdet_tiny-odconv4x_demo.py'))
# The ablation keeps every other hook of the ODConv demo configs.
NO_ANNEAL = dict(custom_hooks=[dict(type='RNGStateHook')])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default='data/odconv_demo')
    p.add_argument('--work-dir', default='work_dirs/demo',
                   help='a folder per config, as `make demo` uses')
    p.add_argument('--out', help='default: benchmarks/results/demo_ap.md '
                   'or demo_ap_no_anneal.md')
    p.add_argument('--no-anneal', action='store_true',
                   help='the ODConv configs without temperature annealing')
    p.add_argument('--rtmdet', action='store_true',
                   help='RTMDet-tiny, static and ODConv 4x')
    p.add_argument('--reuse', action='store_true',
                   help="reuse a config's finished run instead of training")
    args = p.parse_args()
    runs, suffix, title = RUNS, '', 'static vs ODConv'
    if args.rtmdet:
        runs, suffix, title = RTMDET, '_rtmdet', 'RTMDet-tiny vs OD-RTMDet'
    elif args.no_anneal:
        runs = [(f'{name}, no annealing', cfg) for name, cfg in RUNS
                if 'odconv' in cfg]
        suffix, title = '_no-anneal', 'ODConv without temperature annealing'
    rows = {}
    for name, cfg in runs:
        work_dir = os.path.join(args.work_dir,
                                os.path.basename(cfg)[:-3] + suffix)
        rows[name] = (args.reuse and read_metrics(work_dir)) or (
            train_and_evaluate(cfg, work_dir, args.data,
                               NO_ANNEAL if args.no_anneal else None))
        rows[name].setdefault('train_minutes', float('nan'))
    command = ' '.join(['.venv/bin/python -m benchmarks.demo_ap_table'] +
                       ['--no-anneal'] * args.no_anneal +
                       ['--rtmdet'] * args.rtmdet)
    text = (f'# Demo box AP: {title} (same schedule and seed)\n\n'
            f'Machine: {platform.processor() or platform.machine()}, '
            f'{os.cpu_count()} cores; {time.strftime("%Y-%m-%d")}; '
            f'command: `{command}`\n\n{format_table(rows)}\n')
    print(text)
    out = f"benchmarks/results/demo_ap{suffix.replace('-', '_')}.md"
    with open(args.out or out, 'w') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
