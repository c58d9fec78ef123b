"""Box AP of a trained demo detector with its attention BNs in eval mode
(running statistics, as deployed) and in batch-statistics mode (as in
training): a large gap means the attentions learned in training do not
survive the switch to running statistics.

  python benchmarks/probe_attention_bn.py CONFIG CHECKPOINT [--data DIR]
"""
import argparse
import os
import sys

import torch.nn as nn
from mmengine.hooks import Hook


class AttentionBNBatchStats(Hook):
    """Before each val iteration, put every ODConv attention BN in training
    mode with momentum 0 (batch statistics, running ones left as they
    are)."""

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        from mmdet_odconv.layers import ODConv2d
        for m in runner.model.modules():
            if isinstance(m, ODConv2d) and isinstance(
                    m.attention.bn, nn.modules.batchnorm._BatchNorm):
                m.attention.bn.train()
                m.attention.bn.momentum = 0.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--data', default='data/odconv_demo')
    args = p.parse_args()
    sys.path.insert(0, os.getcwd())
    from tools.demo import build_runner
    aps = {}
    for mode in ('running statistics', 'batch statistics'):
        runner = build_runner(args.config, f'work_dirs/probe_bn/{len(aps)}',
                              args.data, {'load_from': args.checkpoint})
        if mode == 'batch statistics':
            runner.register_hook(AttentionBNBatchStats())
        aps[mode] = runner.val()['coco/bbox_mAP']
    for mode, ap in aps.items():
        print(f'attention BN with {mode}: box AP {ap:.3f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
