"""Time and peak memory of the tools' COCO annotation check against
MMDetection's own load (pycocotools' ``COCO()``) on a file of COCO train's
size (``--size-mb``, default 450), generated in a temporary folder.

Each step runs in a fresh process; its peak memory is the growth of the
process's peak RSS over its RSS before the step.
"""
import argparse
import json
import os
import os.path as osp
import platform
import random
import subprocess
import sys
import tempfile
import time

STEPS = {
    'streaming check (tools)':
    'from mmdet_odconv.tools_support import check_coco_file\n'
    'check_coco_file(PATH)',
    'full parse (the check before)':
    'from mmdet_odconv.tools_support import check_coco_annotations\n'
    'check_coco_annotations(PATH, strict=False)',
    'pycocotools COCO() (MMDetection\'s load)':
    'from pycocotools.coco import COCO\nCOCO(PATH)',
}
_MEASURE = '''
import resource, time
def rss_kb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() // 1024
PATH = {path!r}
{imports}
base = rss_kb()
t0 = time.perf_counter()
{call}
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(dt, max(peak - base, 0) / 1024)
'''


def write_coco(path: str, size_mb: float, seed: int = 0) -> dict:
    """A COCO-train-like instances file: per image ~7.3 annotations with
    polygon segmentations, written in pieces (bounded memory)."""
    rng = random.Random(seed)
    target = size_mb * 1e6
    n_images = max(1, int(118287 * size_mb / 448))
    with open(path, 'w') as f:
        f.write('{"info": {"description": "synthetic COCO-size file", '
                '"year": 2017}, "licenses": [], "images": [')
        for i in range(1, n_images + 1):
            f.write(('' if i == 1 else ', ') + json.dumps(dict(
                license=1, file_name=f'{i:012d}.jpg', coco_url='http://'
                f'images.cocodataset.org/train2017/{i:012d}.jpg',
                height=480, width=640, date_captured='2013-11-14 11:18:45',
                flickr_url=f'http://farm.staticflickr.com/{i}.jpg', id=i)))
        f.write('], "annotations": [')
        ann_id = 0
        while f.tell() < target - 20000:
            ann_id += 1
            n = rng.randint(8, 40)
            poly = [round(rng.uniform(0, 640), 2) for _ in range(2 * n)]
            f.write(('' if ann_id == 1 else ', ') + json.dumps(dict(
                segmentation=[poly], area=round(rng.uniform(10, 9e4), 4),
                iscrowd=0, image_id=rng.randint(1, n_images),
                bbox=[round(rng.uniform(0, 600), 2) for _ in range(4)],
                category_id=rng.randint(1, 90), id=ann_id)))
        f.write('], "categories": [' + ', '.join(json.dumps(dict(
            supercategory='thing', id=c, name=f'class{c}'))
            for c in range(1, 81)) + ']}\n')
    return dict(images=n_images, annotations=ann_id,
                mb=osp.getsize(path) / 1e6)


def measure(step: str, path: str) -> tuple:
    """(seconds, peak MiB) of one step in a fresh process."""
    imports, call = STEPS[step].rsplit('\n', 1)
    out = subprocess.run(
        [sys.executable, '-c',
         _MEASURE.format(path=path, imports=imports, call=call)],
        check=True, capture_output=True, text=True).stdout.split()
    return float(out[-2]), float(out[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--size-mb', type=float, default=450)
    p.add_argument('--out', default=osp.join(
        osp.dirname(__file__), 'results', 'annotation_check.md'))
    p.add_argument('--skip-full-parse', action='store_true',
                   help='leave out the slow full-parse row')
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'instances_train.json')
        t0 = time.perf_counter()
        info = write_coco(path, args.size_mb)
        print(f'generated {info["mb"]:.0f} MB ({info["images"]} images, '
              f'{info["annotations"]} annotations) in '
              f'{time.perf_counter() - t0:.0f} s', flush=True)
        rows = {}
        for step in STEPS:
            if args.skip_full_parse and step.startswith('full'):
                continue
            rows[step] = measure(step, path)
            print(f'{step}: {rows[step][0]:.2f} s, {rows[step][1]:.0f} MiB',
                  flush=True)
    ref_s, ref_mb = rows["pycocotools COCO() (MMDetection's load)"]
    lines = [
        '# COCO annotation check vs MMDetection\'s load', '',
        f'`python benchmarks/bench_annotation_check.py --size-mb '
        f'{args.size_mb:g}` on {platform.processor() or platform.machine()}'
        f', {os.cpu_count()} CPUs, Python {platform.python_version()}: a '
        f'generated COCO-format file of {info["mb"]:.0f} MB '
        f'({info["images"]} images, {info["annotations"]} annotations with '
        'polygons; COCO train 2017 is 448 MB). One fresh process per row; '
        'peak memory is the growth of the peak RSS during the step.', '',
        '| step | time (s) | peak memory (MiB) | time / load | memory / '
        'load |', '|---|---|---|---|---|'
    ]
    for step, (s, mb) in rows.items():
        lines.append(f'| {step} | {s:.2f} | {mb:.0f} | {s / ref_s:.1%} | '
                     f'{mb / ref_mb:.1%} |')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
