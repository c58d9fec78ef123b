"""Write the synthetic COCO demo dataset (shapes with instance masks).

Usage::

    python tools/misc/make_demo_data.py [--out data/odconv_demo]
        [--num-train N] [--num-val N] [--size S] [--seed S] [--overwrite]

The same arguments always give byte-identical images and JSON; an existing
complete dataset is reused unless ``--overwrite``.
"""
import argparse
import os.path as osp
import time

from mmdet_odconv.tools_support import check_coco_annotations
from mmdet_odconv.workbench import generate_coco_dataset
from mmdet_odconv.workbench.synthetic_coco import DEFAULT_DIR


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default=DEFAULT_DIR,
                   help=f'output folder (default: {DEFAULT_DIR})')
    p.add_argument('--num-train', type=int, default=600,
                   help='training images (default: 600)')
    p.add_argument('--num-val', type=int, default=100,
                   help='validation images (default: 100)')
    p.add_argument('--size', type=int, default=192,
                   help='image side in pixels (default: 192)')
    p.add_argument('--seed', type=int, default=0, help='seed (default: 0)')
    p.add_argument('--overwrite', action='store_true',
                   help='regenerate even if a complete dataset exists')
    return p.parse_args()


def main() -> None:
    """Generate (or reuse) the dataset, validate it and print a summary."""
    args = parse_args()
    start = time.perf_counter()
    info = generate_coco_dataset(args.out, num_train=args.num_train,
                                 num_val=args.num_val,
                                 image_size=args.size, seed=args.seed,
                                 overwrite=args.overwrite)
    for split in ('train', 'val'):
        check_coco_annotations(info[f'{split}_ann_file'])
    action = 'reused' if info['reused'] else 'wrote'
    print(f"{action} {osp.abspath(info['out_dir'])} in "
          f'{time.perf_counter() - start:.1f} s')
    for split in ('train', 'val'):
        print(f"  {split}: {info[f'num_{split}_images']} images, "
              f"{info[f'num_{split}_annotations']} objects -> "
              f"{info[f'{split}_ann_file']}")
    print(f"  classes: {', '.join(info['classes'])}")


if __name__ == '__main__':
    main()
