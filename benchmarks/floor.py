"""Floor of ODConv2d's cost: the layer's steps timed one at a time.

The steps every exact formulation takes (attention, per-sample kernels,
conv with ready-made kernels, scaling), interleaved with the whole layer,
``nn.Conv2d`` and the official formulation; their sum is the floor.
"""
import sys
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.nn.functional as F
from bench_layer import SHAPES, main
from harness import Call

from mmdet_odconv import ODConv2d


def timed(fn: Callable, *inputs: Optional[torch.Tensor], train: bool) -> Call:
    """``fn`` on leaf copies of ``inputs``; in training also the backward
    of fixed random gradients of its outputs."""
    grads: List[torch.Tensor] = []

    def call() -> None:
        with torch.set_grad_enabled(train):
            outs = fn(*(t if t is None else t.detach().requires_grad_(train)
                        for t in inputs))
            outs = [o for o in outs if o is not None]
            if train:
                grads[:] = grads or [torch.randn_like(o) for o in outs]
                torch.autograd.backward(outs, grads)

    return call


def step_calls(layer: ODConv2d, x: torch.Tensor,
               case: Dict[str, Any]) -> Dict[str, Call]:
    """One call per step the layer takes on ``x``."""
    train = case['mode'] == 'train'
    batch, chunk = x.size(0), layer.batch_chunk(x) if x.size(0) > 1 else 1
    case['chunked'] = chunk < batch
    with torch.no_grad():
        att = layer.attention(x)
        fold = layer.folds_attention(x)
        xs = x if fold else x * att[0][:, :, None, None]
        w = layer.sample_kernels(*att, fold=fold)
        y = F.conv2d(xs[:1], w[0], None, layer.stride, layer.padding,
                     layer.dilation, layer.groups).expand(batch, -1, -1, -1)

    def conv(xs: torch.Tensor, w: torch.Tensor) -> List[torch.Tensor]:
        """The batch folded into groups, ``chunk`` samples at a time."""
        h, wd = xs.shape[-2:]
        return [F.conv2d(xs[i:i + chunk].reshape(1, -1, h, wd),
                         w[i:i + chunk].flatten(0, 1), None, layer.stride,
                         layer.padding, layer.dilation,
                         layer.groups * len(w[i:i + chunk]))
                for i in range(0, batch, chunk)]

    def scale(x, channel, y, filt) -> List[Optional[torch.Tensor]]:
        return [x * channel[:, :, None, None],
                None if filt is None else y * filt[:, :, None, None]]

    calls = dict(
        attention=timed(layer.attention, x, train=train),
        kernels=timed(lambda *a: [layer.sample_kernels(*a, fold=fold)], *att,
                      train=train),
        conv=timed(conv, xs, w, train=train))
    if not fold:
        calls['scale'] = timed(scale, x, att[0], y, att[1], train=train)
    return calls


if __name__ == '__main__':
    # By default where bench_layer.py's B=1 target failed: 3x3 shapes.
    sys.exit(main(__doc__, step_calls, shapes=SHAPES[:5], batches=[1],
                  modes=['eval'], rounds=5))
