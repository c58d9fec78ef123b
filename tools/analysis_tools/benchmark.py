"""Inference speed (FPS) of a detector, on CPU or GPU.

  python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT] \
      [--shape H W] [--num-images 50] [--warmup 5] [--device cpu|cuda] \
      [--fuse-conv-bn]

It measures what MMDetection's ``benchmark.py`` does (warm-up, then a fixed
number of images, one at a time) but takes its own, smaller set of
arguments: it also runs on the CPU and needs no dataset, feeding random
images of ``--shape`` through the data preprocessor and ``predict``. A
checkpoint must match the config (strict loading: a mismatch would time a
partly random model). Use it on a baseline and an ODConv config to compare.
``--fuse-conv-bn`` folds BNs into the convs before timing, as MMDetection's
option: MMCV's ``fuse_conv_bn`` for static convs and the attention BNs,
then ``mmdet_odconv.deploy.fuse_odconv_bn`` for the BNs after ODConvs.
"""
import argparse
import os.path as osp
import sys
import time
from typing import List, Optional, Union


import torch
from mmengine.config import DictAction

import mmdet_odconv  # noqa: F401
from mmdet_odconv.tools_support import build_detector, run_tool
from mmdet_odconv.workbench import setup_runtime


MISFIT_ADVICE = ('To time this config without its trained weights, leave '
                 'the checkpoint out: speed does not depend on the weights.')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Detector inference FPS')
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', default=None)
    p.add_argument('--shape', type=int, nargs=2, default=[800, 1333],
                   metavar=('H', 'W'))
    p.add_argument('--num-images', type=int, default=50)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--device', default='cuda'
                   if torch.cuda.is_available() else 'cpu')
    p.add_argument('--fuse-conv-bn', action='store_true',
                   help='fold BNs into the preceding convs (ODConv ones '
                   'included) before timing; slightly faster inference')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def benchmark(config, checkpoint=None, shape=(800, 1333), num_images=50,
              warmup=5, device='cpu', cfg_options=None,
              fuse_conv_bn=False) -> dict:
    """Time ``num_images`` single-image predictions after ``warmup``.

    The result has ``fps``, ``ms_per_image``, ``images`` and ``fused_bns``
    (how many BNs ``fuse_conv_bn`` folded away; 0 without it).
    """
    from mmdet.testing import demo_mm_inputs
    model = build_detector(config, cfg_options, checkpoint,
                           advice=MISFIT_ADVICE)
    model.to(device).eval()
    fused = 0
    if fuse_conv_bn:
        from mmcv.cnn import fuse_conv_bn as mmcv_fuse
        from mmdet_odconv.deploy import fuse_odconv_bn
        before = _count_bns(model)
        model = fuse_odconv_bn(mmcv_fuse(model))
        fused = before - _count_bns(model)
    packed = demo_mm_inputs(1, [[3, *shape]], num_items=[1])
    times = []
    with torch.no_grad():
        for i in range(warmup + num_images):
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            data = model.data_preprocessor(packed, False)
            model.predict(data['inputs'], data['data_samples'])
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    total = sum(times)
    return dict(fps=len(times) / total, ms_per_image=1000 * total /
                len(times), images=len(times), fused_bns=fused)


def _count_bns(model: torch.nn.Module) -> int:
    return sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
               for m in model.modules())


def _main(argv=None) -> int:
    args = parse_args(argv)
    setup_runtime()
    r = benchmark(args.config, args.checkpoint, tuple(args.shape),
                  args.num_images, args.warmup, args.device,
                  args.cfg_options, args.fuse_conv_bn)
    fused = (f', {r["fused_bns"]} BNs fused' if args.fuse_conv_bn else '')
    print(f'{osp.basename(args.config)} on {args.device}, input '
          f'{args.shape[0]}x{args.shape[1]}: {r["fps"]:.2f} img/s '
          f'({r["ms_per_image"]:.1f} ms/img over {r["images"]} images, '
          f'{args.warmup} warm-up{fused})')
    return 0


def main(argv: Optional[List[str]] = None) -> Union[int, str]:
    """Run the tool; return its exit status 0, or for bad input the
    message that ``sys.exit`` prints with exit status 1 (``run_tool``)."""
    return run_tool(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
