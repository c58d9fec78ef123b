"""Collect COCO metrics from several work dirs into one markdown table.

  python tools/analysis_tools/collect_results.py work_dirs/r50 work_dirs/od4x \
      [--names Baseline "ODConv 4x"] [--out results.md]

Reads the newest metrics MMEngine logged in each work dir (the
``<timestamp>.json`` of tools/test.py, or the last validation in
``vis_data/scalars.json`` of training) and prints AP, AP50, AP75, APs, APm,
APl (x100, as papers report them), plus mask AP when present, with the gain
over the first row.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

BOX = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m',
       'bbox_mAP_l')
MASK = ('segm_mAP', 'segm_mAP_50', 'segm_mAP_75')
LABELS = {
    'bbox_mAP': 'AP', 'bbox_mAP_50': 'AP50', 'bbox_mAP_75': 'AP75',
    'bbox_mAP_s': 'APs', 'bbox_mAP_m': 'APm', 'bbox_mAP_l': 'APl',
    'segm_mAP': 'mask AP', 'segm_mAP_50': 'mask AP50',
    'segm_mAP_75': 'mask AP75'
}


def _metric_lines(path: str):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and any('bbox_mAP' in k for k in row):
                yield row


def metric_files(work_dir: str) -> List[str]:
    """The JSON logs under ``work_dir`` that may hold COCO metrics."""
    return glob.glob(osp.join(work_dir, '*', '*.json')) + glob.glob(
        osp.join(work_dir, '*', 'vis_data', 'scalars.json'))


def read_metrics(work_dir: str) -> Optional[Dict[str, float]]:
    """The newest COCO metrics logged under ``work_dir`` (or None)."""
    files = metric_files(work_dir)
    newest = None
    for path in sorted(files, key=lambda p: (osp.getmtime(p), p)):
        for row in _metric_lines(path):
            newest = row
    if newest is None:
        return None
    return {k.split('/')[-1]: float(v) for k, v in newest.items()
            if isinstance(v, (int, float))}


def make_table(rows: List[tuple]) -> str:
    """``rows``: (name, metrics) pairs; the first is the baseline."""
    keys = list(BOX)
    if any(m and 'segm_mAP' in m for _, m in rows):
        keys += list(MASK)
    head = '| model | ' + ' | '.join(LABELS[k] for k in keys) + ' | ΔAP |'
    lines = [head, '|---' * (len(keys) + 2) + '|']
    base = rows[0][1] if rows and rows[0][1] else None
    for name, m in rows:
        if m is None:
            lines.append(f'| {name} | ' + ' | '.join('–' for _ in keys) +
                         ' | |')
            continue
        cells = [f'{100 * m[k]:.1f}' if k in m and m[k] >= 0 else '–'
                 for k in keys]
        delta = (f'{100 * (m["bbox_mAP"] - base["bbox_mAP"]):+.1f}'
                 if base and m is not base else '')
        lines.append(f'| {name} | ' + ' | '.join(cells) + f' | {delta} |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('work_dirs', nargs='+')
    p.add_argument('--names', nargs='+', help='row names (default: dirs)')
    p.add_argument('--out', help='also write the table to this file')
    args = p.parse_args(argv)
    names = args.names or [osp.basename(osp.normpath(d))
                           for d in args.work_dirs]
    if len(names) != len(args.work_dirs):
        p.error('give one --names entry per work dir')
    if args.out:
        from mmdet_odconv.checkpoints.files import (check_destination,
                                                    check_not_an_input)
        try:
            check_destination(args.out)
            check_not_an_input(args.out, [('metrics log', f)
                                          for d in args.work_dirs
                                          for f in metric_files(d)])
        except ValueError as e:
            p.error(f'--out {e}')
    rows = [(n, read_metrics(d)) for n, d in zip(names, args.work_dirs)]
    missing = [d for (_, m), d in zip(rows, args.work_dirs) if m is None]
    table = make_table(rows)
    print(table)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(table + '\n')
    if missing:
        print(f'no COCO metrics found in: {", ".join(missing)}',
              file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
