"""Train baseline, ODConv 1x and ODConv 4x on the demo data with the same
schedule and seed, and print their COCO box AP side by side.

  .venv/bin/python benchmarks/demo_ap_table.py [--reuse] [--out FILE]
  .venv/bin/python benchmarks/demo_ap_table.py --no-anneal  # the ablation

About 30 minutes on 2 CPU cores (three ~10 minute trainings); ``--reuse``
takes a finished run of a config (e.g. the ODConv 4x one `make demo`
trained) instead of training it again. ``--no-anneal`` trains the two
ODConv configs without their ``ODConvTemperatureHook`` (temperature 1
throughout) and writes ``demo_ap_no_anneal.md``.
"""
import argparse
import os.path as osp
import platform
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tools'))

from demo import format_table, train_and_evaluate  # noqa: E402

from tools.analysis_tools.collect_results import read_metrics  # noqa: E402

RUNS = (
    ('R18 (static)', 'configs/demo/faster-rcnn_r18_fpn_demo.py'),
    ('OD-R18 1x', 'configs/demo/faster-rcnn_r18-odconv1x_fpn_demo.py'),
    ('OD-R18 4x', 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'),
)
# The ablation keeps every other hook of the ODConv demo configs.
NO_ANNEAL = dict(custom_hooks=[dict(type='RNGStateHook')])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default='data/odconv_demo')
    p.add_argument('--work-dir', default='work_dirs/demo',
                   help='one sub-folder per config, as `make demo` uses')
    p.add_argument('--out', default=None,
                   help='default benchmarks/results/demo_ap.md, or '
                   'demo_ap_no_anneal.md with --no-anneal')
    p.add_argument('--no-anneal', action='store_true',
                   help='train the ODConv configs without temperature '
                   'annealing (the ablation)')
    p.add_argument('--reuse', action='store_true',
                   help='reuse a config\'s finished run (e.g. from make '
                   'demo) instead of training it again')
    args = p.parse_args(argv)
    runs, options, suffix, title = RUNS, None, '', 'static vs ODConv'
    if args.no_anneal:
        runs = [(f'{name}, no annealing', cfg) for name, cfg in RUNS
                if 'odconv' in cfg]
        options, suffix = NO_ANNEAL, '_no-anneal'
        title = 'ODConv without temperature annealing'
    out = args.out or ('benchmarks/results/demo_ap'
                       f'{suffix.replace("-", "_")}.md')
    rows = {}
    for name, cfg in runs:
        wd = osp.join(args.work_dir,
                      osp.splitext(osp.basename(cfg))[0] + suffix)
        met = read_metrics(wd) if args.reuse else None
        if met is not None and 'train_minutes' not in met:
            met['train_minutes'] = float('nan')
        if met is None:
            met = train_and_evaluate(cfg, wd, args.data, options)
            met.pop('runner')
        rows[name] = met
    table = format_table(rows)
    cpu = platform.processor() or platform.machine()
    command = ' '.join(['.venv/bin/python benchmarks/demo_ap_table.py'] +
                       (['--no-anneal'] if args.no_anneal else []))
    header = (f'# Demo box AP: {title} (same schedule and seed)\n\n'
              f'Machine: {cpu}, {__import__("os").cpu_count()} cores; '
              f'{time.strftime("%Y-%m-%d")}; command: `{command}`\n\n')
    print(header + table)
    with open(out, 'w') as f:
        f.write(header + table + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
