"""Log what ODConv's attentions and gradients do during training.

Switched on by a config (``custom_hooks``), never by default. On the
iterations it records, the hook attaches forward hooks to the attention
modules and a step pre-hook to the optimizer, and removes both after the
iteration; on the others it only compares a counter.
"""
import math
from collections import defaultdict
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...layers import Attentions, ODConv2d

# The sigmoid attentions: fields of the Attentions that ODConvAttention
# returns, and their names in the scalars.
SIGMOID_HEADS = ('channel', 'filter', 'spatial')
GROUPINGS = ('all', 'stage', 'model')

Accumulator = Dict[str, torch.Tensor]


@HOOKS.register_module()
class ODConvDiagnosticsHook(Hook):
    """Write attention statistics and gradient norms of ODConv layers.

    Every ``interval`` training iterations it measures, per ODConv layer
    (or per stage, or over the whole model), and writes to the message hub
    as ``train/odconv/<group>/<stat>``, which MMEngine's ``LoggerHook``
    prints and hands to the visualizer backends:

    - ``{channel,filter,spatial}_sat``: fraction of the sigmoid attention's
      values below ``low`` or above ``high``; ``..._mean``: their mean;
    - ``kernel_entropy``: mean entropy of the kernel softmax divided by
      ``log(n)`` (1: uniform over the bank, 0: one kernel);
      ``kernel_max_prob``: mean largest kernel probability;
    - ``weight_grad``, ``attention_grad``: L2 norms of the gradients of the
      kernel bank and of the attention's parameters, as the optimizer
      step receives them (after DDP's all-reduce, AMP's unscaling and
      gradient clipping).

    A head the layer lacks (one left out of its ``attentions=``, filter of a
    depthwise conv, spatial of a 1x1, kernel of one kernel) gives no
    scalar. Statistics are those of this process's batch.

    Args:
        interval (int): Record every ``interval`` iterations. Defaults to
            50, as ``LoggerHook``; the log shows the latest record.
        layers (str): ``'all'``: one group per ODConv layer; ``'stage'``:
            layers grouped by their name up to its first index (e.g.
            ``backbone.layer2``); ``'model'``: one group. Groups pool their
            layers' values. Defaults to ``'all'``.
        low (float): A sigmoid value below it is saturated. Defaults to
            0.01.
        high (float): A sigmoid value above it is saturated. Defaults to
            0.99.
    """

    priority = 'NORMAL'  # before LoggerHook reads the message hub

    def __init__(self,
                 interval: int = 50,
                 layers: str = 'all',
                 low: float = 0.01,
                 high: float = 0.99) -> None:
        if isinstance(interval, bool) or not isinstance(interval, int) \
                or interval < 1:
            raise ValueError(f'interval must be an int >= 1, got {interval!r}')
        if layers not in GROUPINGS:
            raise ValueError(
                f'layers must be one of {GROUPINGS}, got {layers!r}')
        if not (isinstance(low, (int, float))
                and isinstance(high, (int, float)) and 0 <= low < high <= 1):
            raise ValueError('thresholds must satisfy 0 <= low < high <= 1, '
                             f'got low={low!r}, high={high!r}')
        self.interval = interval
        self.layers = layers
        self.low = float(low)
        self.high = float(high)
        self._handles: List = []
        self._groups: Dict[str, List[ODConv2d]] = {}
        self._stats: Dict[str, Accumulator] = {}
        self._grads_read = False
        self._warned = False

    # ------------------------------------------------------------- runner
    def before_train_iter(self, runner, batch_idx: int, data_batch=None):
        if not self.every_n_train_iters(runner, self.interval):
            return
        self._remove_handles()  # left over if the last iteration raised
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        groups = self._grouped_layers(model)
        if not groups:
            if not self._warned:
                runner.logger.warning('ODConvDiagnosticsHook: the model has '
                                      'no ODConv layer; nothing to log.')
                self._warned = True
            return
        self._stats = {g: {} for g in groups}
        self._groups = groups
        self._grads_read = False
        for group, layers in groups.items():
            for layer in layers:
                self._handles.append(
                    layer.attention.register_forward_hook(
                        self._attention_hook(self._stats[group])))
        for optimizer in _optimizers(getattr(runner, 'optim_wrapper', None)):
            self._handles.append(
                optimizer.register_step_pre_hook(self._step_hook))

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if not self._handles:
            return
        self._remove_handles()
        if not self._grads_read:  # no optimizer step in this iteration
            self._read_grads()
        for key, value in self._scalars().items():
            runner.message_hub.update_scalar(f'train/{key}', value)
        self._stats = {}

    def after_train(self, runner) -> None:
        self._remove_handles()

    # ------------------------------------------------------------ capture
    def _grouped_layers(self, model: nn.Module) -> Dict[str, list]:
        groups = defaultdict(list)
        for name, m in model.named_modules():
            if isinstance(m, ODConv2d):
                groups[self._group_of(name)].append(m)
        return dict(groups)

    def _group_of(self, name: str) -> str:
        if self.layers == 'model' or not name:
            return 'model'
        return name if self.layers == 'all' else stage_of(name)

    def _attention_hook(self, acc: Accumulator):
        low, high = self.low, self.high

        def hook(module: nn.Module, inputs: Tuple,
                 output: Attentions) -> None:
            with torch.no_grad():
                for name in SIGMOID_HEADS:
                    a = getattr(output, name)
                    if a is None:
                        continue
                    a = a.detach()
                    _add(acc, f'{name}_sat', ((a < low) | (a > high)).sum())
                    _add(acc, f'{name}_sum', a.sum())
                    _add(acc, f'{name}_n', a.numel())
                p = output.kernel
                if p is not None:
                    p = p.detach()
                    entropy = torch.special.entr(p).sum(1)
                    _add(acc, 'entropy_sum',
                         entropy.sum() / math.log(p.size(1)))
                    _add(acc, 'max_prob_sum', p.amax(1).sum())
                    _add(acc, 'kernel_n', p.size(0))

        return hook

    def _step_hook(self, optimizer, args, kwargs) -> None:
        if not self._grads_read:  # several optimizers: one read suffices
            self._read_grads()

    def _read_grads(self) -> None:
        """Add the squared gradient norms of every recorded layer."""
        self._grads_read = True
        with torch.no_grad():
            for group, layers in self._groups.items():
                acc = self._stats[group]
                for layer in layers:
                    _add_sq(acc, 'weight_sq', [layer.weight])
                    _add_sq(acc, 'attention_sq',
                            list(layer.attention.parameters()))

    def _remove_handles(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # ------------------------------------------------------------- output
    def _scalars(self) -> Dict[str, float]:
        """``odconv/<group>/<stat>`` -> value, with one device sync."""
        tensors = [(g, k, v) for g, acc in self._stats.items()
                   for k, v in acc.items() if isinstance(v, torch.Tensor)]
        raw = defaultdict(dict)
        for g, acc in self._stats.items():
            for k, v in acc.items():
                if not isinstance(v, torch.Tensor):
                    raw[g][k] = float(v)
        if tensors:
            device = tensors[0][2].device
            flat = torch.stack(
                [v.to(device, torch.float32) for _, _, v in tensors]).tolist()
            for (g, k, _), v in zip(tensors, flat):
                raw[g][k] = v
        out = {}
        for group, s in raw.items():
            prefix = f'odconv/{group}/'
            for name in SIGMOID_HEADS:
                n = s.get(f'{name}_n')
                if n:
                    out[prefix + f'{name}_sat'] = s[f'{name}_sat'] / n
                    out[prefix + f'{name}_mean'] = s[f'{name}_sum'] / n
            n = s.get('kernel_n')
            if n:
                out[prefix + 'kernel_entropy'] = s['entropy_sum'] / n
                out[prefix + 'kernel_max_prob'] = s['max_prob_sum'] / n
            for key, name in (('weight_sq', 'weight_grad'),
                              ('attention_sq', 'attention_grad')):
                if key in s:
                    out[prefix + name] = math.sqrt(s[key])
        return out


def stage_of(name: str) -> str:
    """A layer's stage: its module name up to the first index
    (``backbone.layer2.0.conv1`` -> ``backbone.layer2``); names without
    one keep their first two parts, names starting with one their first."""
    parts = name.split('.')
    for i, part in enumerate(parts):
        if part.isdigit():
            return '.'.join(parts[:max(i, 1)])
    return '.'.join(parts[:2])


def _add(acc: Accumulator, key: str, value) -> None:
    acc[key] = acc[key] + value if key in acc else value


def _add_sq(acc: Accumulator, key: str, params: List[nn.Parameter]) -> None:
    """Add the squared norm of the parameters' gradients (if any)."""
    grads = [p.grad for p in params if p.grad is not None]
    if grads:
        _add(acc, key, sum(g.detach().float().pow(2).sum() for g in grads))


def _optimizers(optim_wrapper) -> List[torch.optim.Optimizer]:
    """The optimizers of an OptimWrapper or an OptimWrapperDict."""
    if optim_wrapper is None:
        return []
    if hasattr(optim_wrapper, 'optimizer'):
        wrappers = [optim_wrapper]
    else:
        wrappers = list(getattr(optim_wrapper, 'values', lambda: [])())
    return [
        w.optimizer for w in wrappers
        if isinstance(getattr(w, 'optimizer', None), torch.optim.Optimizer)
    ]
