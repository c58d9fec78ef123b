"""Plot what every ODConv layer's attention does on one image.

  python tools/analysis_tools/plot_attention.py CONFIG CHECKPOINT IMAGE \
      [--out attention.png] [--max-layers 24] [--cfg-options K=V ...]

One row per ODConv layer: the spatial attention over the k x k taps (a
heat map), the distributions of the channel and filter attentions
(histograms), and the kernel attention over the bank (bars). A missing
attention says why: left out of the layer's ``attentions=``, or all ones
for its geometry (depthwise, 1x1, one kernel).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Union


import torch
from mmengine.config import DictAction

import mmdet_odconv  # noqa: F401
from mmdet_odconv import ODConv2d
from mmdet_odconv.checkpoints import check_destination, check_not_an_input
from mmdet_odconv.tools_support import (PreflightError, build_detector,
                                        run_tool)


def why_absent(layer: ODConv2d, head: str) -> str:
    """The label of an attention ``layer`` does not compute: the geometry
    that would make it all ones (depthwise, 1x1, one kernel), else that
    it was left out of the layer's ``attentions=``."""
    k = layer.kernel_size
    geometry = dict(
        filter=('depthwise', layer.in_channels == layer.groups ==
                layer.out_channels),
        spatial=('1x1', k[0] * k[1] == 1),
        kernel=('n=1', layer.kernel_num == 1))
    what, holds = geometry.get(head, ('', False))
    if holds:
        return f'{what}: none'
    if head not in layer.attentions:
        return 'left out: none'
    return 'none'


def capture_attentions(model: torch.nn.Module,
                       run) -> List[Dict[str, object]]:
    """Call ``run()`` and record every ODConv's attentions (first sample)
    and, under ``'absent'``, why each missing one is missing."""
    records: List[Dict[str, object]] = []
    handles = []
    for name, m in model.named_modules():
        if not isinstance(m, ODConv2d):
            continue

        def hook(mod, args, out, name=name, layer=m):
            first = {
                head: None if t is None else t[0].detach().float().cpu()
                for head, t in out._asdict().items()
            }
            if first['spatial'] is not None:
                first['spatial'] = first['spatial'].view(*layer.kernel_size)
            absent = {
                head: why_absent(layer, head)
                for head, t in first.items() if t is None
            }
            records.append(dict(name=name, absent=absent, **first))

        handles.append(m.attention.register_forward_hook(hook))
    try:
        with torch.no_grad():
            run()
    finally:
        for h in handles:
            h.remove()
    return records


def plot(records: List[Dict[str, object]], out: str) -> str:
    """Write the attention figure for ``records`` to ``out`` (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = max(len(records), 1)
    fig, axes = plt.subplots(rows, 4, figsize=(12, 1.8 * rows + 0.6),
                             squeeze=False)
    titles = ('spatial (k x k)', 'channel (input)', 'filter (output)',
              'kernel (bank)')
    for j, t in enumerate(titles):
        axes[0][j].set_title(t, fontsize=10)
    for i, r in enumerate(records):
        ax = axes[i]
        absent = r.get('absent', {})
        ax[0].set_ylabel(r['name'], fontsize=7, rotation=0, ha='right')
        if r['spatial'] is not None:
            ax[0].imshow(r['spatial'].numpy(), cmap='viridis', vmin=0,
                         vmax=1)
        else:
            ax[0].text(0.5, 0.5, absent.get('spatial', 'none'),
                       ha='center', va='center')
        for a, key in ((ax[1], 'channel'), (ax[2], 'filter')):
            if r[key] is not None:
                a.hist(r[key].numpy(), bins=20, range=(0, 1))
            else:
                a.text(0.5, 0.5, absent.get(key, 'none'), ha='center',
                       va='center')
        if r['kernel'] is not None:
            n = len(r['kernel'])
            ax[3].bar(range(n), r['kernel'].numpy())
            ax[3].set_xticks(range(n))
            ax[3].set_ylim(0, 1)
        else:
            ax[3].text(0.5, 0.5, absent.get('kernel', 'none'),
                       ha='center', va='center')
        for a in ax:
            a.tick_params(labelsize=6)
        ax[0].set_xticks([])
        ax[0].set_yticks([])
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


MISFIT_ADVICE = ('Give the checkpoint trained with this config: the '
                 'attentions of a partly random model mean nothing.')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('image')
    p.add_argument('--out', default='attention.png')
    p.add_argument('--max-layers', type=int, default=24)
    p.add_argument('--device', default='cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override settings in the config, as train.py')
    return p.parse_args(argv)


def _main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.image):
        raise PreflightError(f'image not found: {args.image}')
    try:
        check_destination(args.out)
        check_not_an_input(args.out, [('image', args.image),
                                      ('checkpoint', args.checkpoint),
                                      ('config', args.config)])
    except ValueError as e:
        raise PreflightError(f'--out {e}') from e
    from mmdet.apis import inference_detector
    # strictly: the attentions of a partly random model mean nothing
    model = build_detector(args.config, args.cfg_options, args.checkpoint,
                           advice=MISFIT_ADVICE)
    model.to(args.device)
    records = capture_attentions(
        model, lambda: inference_detector(model, args.image))
    if not records:
        raise PreflightError(
            f'{args.config}: the model has no ODConv layer')
    plot(records[:args.max_layers], args.out)
    print(f'{len(records)} ODConv layers; wrote {args.out}')
    return 0


def main(argv: Optional[List[str]] = None) -> Union[int, str]:
    """Run the tool; return its exit status 0, or for bad input the
    message that ``sys.exit`` prints with exit status 1 (``run_tool``)."""
    return run_tool(_main, argv)


if __name__ == '__main__':
    sys.exit(main())
