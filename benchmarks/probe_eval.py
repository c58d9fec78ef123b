"""Box AP of a trained demo detector as trained and with one change made to
its ODConv layers at evaluation only.

``--probe attention-bn``: the attention BNs on batch statistics, as in
training, instead of running ones. A large gap means the attentions learned
in training do not survive the switch to running statistics.

``--probe all-bn``: every BN of the model (the backbone's, neck's and
head's too) on batch statistics. A model that is good in training mode and
poor in eval mode gains here.

``--probe precise-bn``: every BN's running statistics recomputed before
the evaluation as the plain average over ``--bn-batches`` training batches
(the model in training mode, no gradient), instead of the momentum average
of the last training iterations.

``--probe uniform-kernel-mix``: every sample gets the mean of its bank (the
kernel attention made uniform, the other attentions as learned). While the
temperature is high the kernel softmax is near uniform, every kernel of a
bank gets the same gradient and what the kernels do not share stays as
initialised; a model whose AP rises here is hurt by those differences.

  python benchmarks/probe_eval.py CONFIG CHECKPOINT --probe PROBE [--data DIR]
      [--bn-batches N]
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
from mmengine.hooks import Hook


def _odconv_layers(runner):
    from mmdet_odconv.layers import ODConv2d
    return [m for m in runner.model.modules() if isinstance(m, ODConv2d)]


class AttentionBNBatchStats(Hook):
    """Before each val iteration, put every ODConv attention BN in training
    mode with momentum 0 (batch statistics, running ones left as they
    are)."""

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        for m in _odconv_layers(runner):
            if isinstance(m.attention.bn, nn.modules.batchnorm._BatchNorm):
                m.attention.bn.train()
                m.attention.bn.momentum = 0.0


class AllBNBatchStats(Hook):
    """Before each val iteration, put every BN of the model in training
    mode with momentum 0."""

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        for m in runner.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.train()
                m.momentum = 0.0


class PreciseBN(Hook):
    """Before validation, recompute every BN's running statistics as the
    plain average over ``batches`` training batches."""

    def __init__(self, batches: int) -> None:
        self.batches = batches

    def before_val(self, runner) -> None:
        model = runner.model
        bns = [m for m in model.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average
        model.train()
        # plain batches of the training set (the runner's loader groups
        # images by aspect ratio and yields nothing here once exhausted)
        train = runner.cfg.train_dataloader
        loader = iter(torch.utils.data.DataLoader(
            runner.train_dataloader.dataset, batch_size=train.batch_size,
            shuffle=True, collate_fn=runner.train_dataloader.collate_fn))
        with torch.no_grad():
            for _ in range(self.batches):
                data = model.data_preprocessor(next(loader), True)
                model._forward(data['inputs'], data['data_samples'])
        model.eval()


class UniformKernelMix(Hook):
    """Before validation, make every ODConv's kernel attention uniform."""

    def before_val(self, runner) -> None:

        def uniform(module, args, out):
            if out.kernel is None:
                return out
            return out._replace(kernel=torch.full_like(
                out.kernel, 1.0 / out.kernel.size(1)))

        for m in _odconv_layers(runner):
            m.attention.register_forward_hook(uniform)


PROBES = {'attention-bn': AttentionBNBatchStats,
          'all-bn': AllBNBatchStats,
          'precise-bn': PreciseBN,
          'uniform-kernel-mix': UniformKernelMix}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--probe', choices=sorted(PROBES), required=True)
    p.add_argument('--data', default='data/odconv_demo')
    p.add_argument('--work-dir', default='work_dirs/probe_eval')
    p.add_argument('--bn-batches', type=int, default=100,
                   help='training batches for --probe precise-bn')
    args = p.parse_args()
    sys.path.insert(0, os.getcwd())
    from tools.demo import build_runner
    aps = {}
    for mode in ('as trained', args.probe):
        runner = build_runner(args.config, f'{args.work_dir}/{len(aps)}',
                              args.data, {'load_from': args.checkpoint})
        if mode == args.probe:
            probe = PROBES[args.probe]
            runner.register_hook(probe(args.bn_batches) if probe is PreciseBN
                                 else probe())
        aps[mode] = runner.val()['coco/bbox_mAP']
    for mode, ap in aps.items():
        print(f'{mode}: box AP {ap:.3f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
