"""FLOP and parameter counting that sees all of ODConv's work.

MMEngine's ``FlopAnalyzer`` traces the model and counts matmuls and convs
(one multiply-add = one FLOP, as MMDetection reports). ODConv's kernel-bank
aggregation is a matmul and its per-sample convs are convs, so both are
counted as traced; the attention multiplications (spatial attention on the
kernel, channel/filter attention folded into it or applied to activations)
are element-wise ``aten::mul`` ops, which MMEngine skips: we add a handle
that counts one FLOP per output element of a multiplication.
"""
from collections import Counter
from typing import Any, Dict, List, Tuple

import torch
import torch.nn as nn

from .layers import ODConv2d


def _mul_flops(inputs: List[Any], outputs: List[Any]) -> int:
    """One FLOP per element of a (broadcast) element-wise product."""
    from mmengine.analysis.jit_handles import get_shape
    shape = get_shape(outputs[0])
    n = 1
    for s in shape or ():
        n *= s
    return n


def flop_analyzer(model: nn.Module, inputs: Tuple[torch.Tensor, ...]):
    """An MMEngine FlopAnalyzer that also counts element-wise products."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.set_op_handle(**{'aten::mul': _mul_flops,
                              'aten::mul_': _mul_flops})
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer


def complexity(model: nn.Module,
               inputs: Tuple[torch.Tensor, ...]) -> Dict[str, float]:
    """FLOPs (multiply-adds) and parameters, with ODConv's share.

    Returns a dict with ``flops``, ``params``, ``odconv_flops`` (inside
    ODConv layers: attention, aggregation, conv) and ``odconv_layers``.
    """
    model.eval()
    analyzer = flop_analyzer(model, inputs)
    with torch.no_grad():
        total = analyzer.total()
        by_module: Counter = analyzer.by_module()
    od_names = [n for n, m in model.named_modules()
                if isinstance(m, ODConv2d)]
    return dict(
        flops=float(total),
        params=float(sum(p.numel() for p in model.parameters())),
        odconv_flops=float(sum(by_module[n] for n in od_names)),
        odconv_layers=float(len(od_names)))
