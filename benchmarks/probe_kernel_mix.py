"""Box AP of a trained demo detector with its kernel attention as learned
and forced uniform (every sample gets the mean of the bank; the other
attentions as learned).

While the temperature is high the kernel softmax is near uniform: every
kernel of a bank gets the same gradient, so what the kernels do not share
stays as initialised. A model whose AP rises when its kernel mix is made
uniform is hurt by those untrained differences.

  python benchmarks/probe_kernel_mix.py CONFIG CHECKPOINT [--data DIR]
"""
import argparse
import os
import sys

import torch
from mmengine.hooks import Hook


class UniformKernelMix(Hook):
    """Before validation, make every ODConv's kernel attention uniform."""

    def before_val(self, runner) -> None:
        from mmdet_odconv.layers import ODConv2d

        def uniform(module, args, out):
            if out.kernel is None:
                return out
            return out._replace(kernel=torch.full_like(
                out.kernel, 1.0 / out.kernel.size(1)))

        for m in runner.model.modules():
            if isinstance(m, ODConv2d):
                m.attention.register_forward_hook(uniform)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--data', default='data/odconv_demo')
    p.add_argument('--work-dir', default='work_dirs/probe_kernel_mix')
    args = p.parse_args()
    sys.path.insert(0, os.getcwd())
    from tools.demo import build_runner
    aps = {}
    for mode in ('as learned', 'uniform'):
        runner = build_runner(args.config, f'{args.work_dir}/{len(aps)}',
                              args.data, {'load_from': args.checkpoint})
        if mode == 'uniform':
            runner.register_hook(UniformKernelMix())
        aps[mode] = runner.val()['coco/bbox_mAP']
    for mode, ap in aps.items():
        print(f'kernel attention {mode}: box AP {ap:.3f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
