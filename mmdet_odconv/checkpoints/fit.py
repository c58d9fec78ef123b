"""Whether a checkpoint fits a model: one comparison, one diagnosis.

MMEngine loads ``load_from``, ``--resume`` and test checkpoints with
``strict=False``: keys that are missing or of another shape only log a
warning and those weights stay random. :func:`compare_state_dict` loads a
state dict as MMEngine does, each layer's own loading included (ODConv
inflates static and one-kernel weights), and reports what would really be
left at its initial value; :func:`likely_causes` reads the cause from the
shapes; :func:`mismatch_message` words both. The tools' checks
(:func:`load_checkpoint_into`) and the converter's strict check use them.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn

from .files import is_remote
from .safe_load import safe_torch_load

_SHOW = 8  # keys listed per kind
LOAD_ENDING = ('MMEngine would load the rest and leave these weights '
               'random, so results would not be those of the checkpoint.')

Shape = Tuple[int, ...]


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: not one, or not fitting."""


class StateDictDiff(NamedTuple):
    """What loading a state dict into a model leaves unmatched."""
    missing: List[str]  # in the model, not loaded from the checkpoint
    unexpected: List[str]  # in the checkpoint, not in the model
    mismatched: List[Tuple[str, Shape, Shape]]  # key, checkpoint, model
    errors: List[str]  # other errors raised by the modules' loading
    # ODConv layers whose kernel bank was filled from a static (4-D) or
    # one-kernel weight, which the layer inflates on loading
    inflated: Tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.mismatched
                    or self.errors)


def load_checkpoint_file(path: str) -> Tuple['OrderedDict[str, Any]', dict]:
    """The model weights in a checkpoint, keyed as MMEngine loads them, and
    the checkpoint's ``meta`` dict (empty if it has none).

    Local files go through :func:`safe_torch_load` (clear errors for files
    that are not checkpoints); remote ones through MMEngine's loader.
    """
    if is_remote(path):
        from mmengine.runner.checkpoint import CheckpointLoader
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    else:
        ckpt = safe_torch_load(path)
    if not isinstance(ckpt, dict):
        raise ValueError(f'{path} holds a {type(ckpt).__name__}, not a dict '
                         'of weights (a state dict or an MMEngine checkpoint)')
    state = ckpt.get('state_dict', ckpt)
    meta = ckpt.get('meta') if 'state_dict' in ckpt else None
    # MMEngine strips DataParallel / DDP prefixes the same way.
    return OrderedDict(
        (re.sub(r'^module\.', '', k), v)
        for k, v in state.items()), meta if isinstance(meta, dict) else {}


def compare_state_dict(model: nn.Module,
                       state_dict: Dict[str, Any],
                       inflation_ok: bool = True) -> StateDictDiff:
    """Load ``state_dict`` into ``model`` as MMEngine does and report.

    Every module's own ``_load_from_state_dict`` runs, so what a layer
    converts on loading (ODConv inflating static or one-kernel weights into
    its bank) is judged after that conversion. A weight left at its initial
    value is reported unless the loaded model cannot depend on it: the
    kernel attention of a bank of identical kernels (an inflated one), and
    all attention weights of a layer whose sigmoid heads are zero (a static
    conv inflated without attention: each attention is a constant 0.5).
    ``inflation_ok=False`` (resuming a run, converting checkpoints)
    reports those weights too. ``model`` is modified: pass a throwaway one.
    """
    missing: List[str] = []
    unexpected: List[str] = []
    msgs: List[str] = []
    errors: List[str] = []
    metadata = getattr(state_dict, '_metadata', None)

    def load(module: nn.Module, local: Dict[str, Any], prefix: str) -> None:
        meta = {} if metadata is None else metadata.get(prefix[:-1], {})
        try:
            module._load_from_state_dict(local, prefix, meta, True, missing,
                                         unexpected, msgs)
        except (ValueError, RuntimeError) as e:
            errors.append(str(e))
        for name, child in module._modules.items():
            if child is not None:
                p = f'{prefix}{name}.'
                load(child, {
                    k: v
                    for k, v in local.items() if k.startswith(p)
                }, p)

    load(model, dict(state_dict), '')
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    mismatched = []
    for msg in msgs:
        m = re.match(r'size mismatch for (\S+):', msg)
        if m and m.group(1) in state_dict and m.group(1) in own:
            key = m.group(1)
            mismatched.append((key, tuple(state_dict[key].shape), own[key]))
        else:
            errors.append(msg)
    missing = [k for k in missing if not k.endswith('num_batches_tracked')]
    inflated, irrelevant = _inflated_banks(model, state_dict, own)
    if inflation_ok:
        missing = [k for k in missing if not k.startswith(irrelevant)]
    return StateDictDiff(missing, unexpected, mismatched, errors, inflated)


def _inflated_banks(model: nn.Module, state_dict: Dict[str, Any],
                    own: Dict[str, Shape]
                    ) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """ODConv layers given a weight of another shape that loaded (inflated
    banks), and the key prefixes the loaded model does not depend on."""
    from ..layers import ODConv2d
    inflated: List[str] = []
    irrelevant: List[str] = []
    for name, m in model.named_modules():
        if not isinstance(m, ODConv2d):
            continue
        key = f'{name}.weight' if name else 'weight'
        given = state_dict.get(key)
        if hasattr(given, 'shape') and tuple(given.shape) != own[key]:
            inflated.append(name)
        bank = m.weight.detach()
        if not all(torch.equal(bank[0], k) for k in bank[1:]):
            continue  # distinct kernels: the kernel attention matters
        att = f'{name}.attention.' if name else 'attention.'
        heads = [m.attention._modules[h]
                 for h in getattr(m.attention, 'sigmoid_heads', ())]
        if all(not h.weight.any() and (h.bias is None or not h.bias.any())
               for h in heads):
            irrelevant.append(att)  # constant attentions, one kernel
        else:
            irrelevant.append(f'{att}kernel_fc.')
    return tuple(inflated), tuple(irrelevant)


PURPOSES = ('load', 'resume', 'convert')


def likely_causes(model: nn.Module,
                  state_dict: Dict[str, Any],
                  diff: StateDictDiff,
                  purpose: str = 'load',
                  source: str = '') -> List[str]:
    """Guess, from the shapes, why a checkpoint does not fit a model.

    ``purpose``: ``'load'`` (test, ``load_from``), ``'resume'`` (continue
    a run: the very model it was saved from) or ``'convert'`` (the
    converter: static weights are pointed to ``init_cfg``); ``source``
    names the checkpoint file in that advice.
    """
    assert purpose in PURPOSES, purpose
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {
        k: tuple(v.shape)
        for k, v in state_dict.items() if hasattr(v, 'shape')
    }
    causes = []
    od_ours = _bank_sizes(ours)
    od_theirs = _bank_sizes(theirs)
    has_att = any('.attention.' in k for k in theirs)
    if od_theirs and not od_ours:
        causes.append(
            'the checkpoint holds ODConv layers (kernel banks of '
            f'{_fmt_n(od_theirs)} kernels: 5-D weights) where the config '
            'builds static convs (4-D): it is an ODConv checkpoint given '
            'with a static config; use the ODConv config of this model '
            f'(odconv{_fmt_n(od_theirs)}x in its name)')
    elif od_ours and not od_theirs and not has_att:
        causes.append(_static_cause(ours, theirs, purpose, source, od_ours))
    elif od_ours and od_theirs and od_ours != od_theirs:
        n = _fmt_n(od_theirs)
        causes.append(
            f'the checkpoint is ODConv {n}x (kernel_num={n}) but the config '
            f'builds ODConv {_fmt_n(od_ours)}x (kernel_num='
            f'{_fmt_n(od_ours)}): use the config with odconv{n}x in its '
            f'name (odconv=dict(kernel_num={n}))')
    elif has_att != any('.attention.' in k for k in ours):
        causes.append('the checkpoint and the config place ODConv in '
                      'different layers (another backbone or placement)')
    if purpose == 'resume' and diff.inflated:
        causes.append(
            'a resumed run continues the model the checkpoint was saved '
            'from, so its config must be the one it was trained with; to '
            'start this config from the checkpoint (static or 1-kernel '
            'weights are inflated into the kernel banks), give it as '
            'load_from instead of resuming')
    heads = [(k, a, b) for k, a, b in diff.mismatched
             if re.search(r'(fc|conv)_cls\.', k)]
    if heads:
        k, a, b = heads[0]
        causes.append(f'the classification heads differ ({k}: {a[0]} '
                      f'outputs in the checkpoint, {b[0]} in the model): the '
                      'checkpoint was trained on another set of classes')
    shared = set(ours) & set(theirs)
    if not shared:
        if any(f'backbone.{k}' in ours for k in theirs):
            causes.append(
                'the checkpoint holds a backbone alone (keys without the '
                "'backbone.' prefix): give it as "
                'model.backbone.init_cfg.checkpoint, not as a detector '
                'checkpoint')
        else:
            causes.append('the checkpoint shares no key with the model: it '
                          'is not a checkpoint of this kind of model')
    if not causes:
        causes.append('the checkpoint was trained with another config '
                      '(another depth, width, neck, head or number of '
                      'classes)')
    return causes


def _static_cause(ours: Dict[str, Shape], theirs: Dict[str, Shape],
                  purpose: str, source: str, od_ours: List[int]) -> str:
    """A static checkpoint where the config builds ODConv layers."""
    head = ('the checkpoint holds static convs (4-D weights, no attention) '
            'where the config builds ODConv layers '
            f'(kernel_num={_fmt_n(od_ours)}): ')
    detector = any(k.startswith('backbone.') for k in ours)
    if purpose != 'convert':
        return head + ('it is a static detector given with an ODConv '
                       'config; use the static config it was trained with')
    if detector:
        return head + ('convert it with the static config of this detector '
                       '(the one without odconv in its name)')
    if any(k.startswith('features.') for k in theirs):
        return head + ('convert it with the static MobileNetV2 config and '
                       "give the result to the ODConv config's init_cfg, "
                       'which inflates static kernels into the ODConv bank')
    return head + ('static ResNet weights need no conversion: ODResNet '
                   "loads them directly through init_cfg=dict(type="
                   f"'Pretrained', checkpoint='{osp.basename(source)}') "
                   "(or 'torchvision://resnet50') and inflates each kernel "
                   'into the ODConv bank')


def _bank_sizes(shapes: Dict[str, Shape]) -> List[int]:
    """Kernel-bank sizes n of the ODConv weights (n, C_out, C_in, k, k)."""
    return sorted({
        s[0]
        for k, s in shapes.items() if k.endswith('.weight') and len(s) == 5
    })


def _fmt_n(ns: List[int]) -> str:
    return '/'.join(str(n) for n in ns)


def _keys(title: str, keys: List[str]) -> List[str]:
    if not keys:
        return []
    more = f' (and {len(keys) - _SHOW} more)' if len(keys) > _SHOW else ''
    return [f'  {len(keys)} {title}{more}:'
            ] + [f'    {k}' for k in keys[:_SHOW]]


def mismatch_message(path: str,
                     target: str,
                     model: nn.Module,
                     state_dict: Dict[str, Any],
                     diff: StateDictDiff,
                     ending: str = LOAD_ENDING,
                     purpose: str = 'load') -> str:
    """The report of a checkpoint ``path`` that does not fit the model of
    ``target`` (a config's name): the keys, the likely cause
    (:func:`likely_causes`), then ``ending``: what follows from it and
    what the caller accepts to go on anyway."""
    lines = [f'Checkpoint {path} does not fit the model of {target}:']
    lines += _keys('keys of the model missing from the checkpoint',
                   diff.missing)
    lines += _keys('keys in the checkpoint that the model does not have',
                   diff.unexpected)
    lines += _keys(
        'tensors of another shape (checkpoint vs model)',
        [f'{k}: {list(a)} vs {list(b)}' for k, a, b in diff.mismatched])
    lines += _keys('errors', diff.errors)
    lines.append('Likely cause: ' + '; '.join(
        likely_causes(model, state_dict, diff, purpose, path)) + '.')
    if ending:
        lines.append(ending)
    return '\n'.join(lines)


def load_checkpoint_into(model: nn.Module,
                         path: str,
                         target: str = 'the config',
                         allow_partial: bool = False,
                         advice: str = '',
                         resume: bool = False,
                         apply_temperature: bool = True) -> StateDictDiff:
    """Load a checkpoint (path or URL) into ``model``; it must fit.

    Static or one-kernel weights that ODConv layers inflate into their
    banks fit (logged in one line), except when ``resume``. With
    ``apply_temperature`` the temperature the checkpoint was saved at is
    applied (:func:`apply_saved_temperature`).

    Raises:
        CheckpointError: if the file is not a checkpoint, or (unless
            ``allow_partial``) keys are missing, unexpected or of another
            shape; the message names them, the likely cause and
            ``advice``: what the calling tool accepts to load it anyway.
    """
    try:
        state_dict, meta = load_checkpoint_file(path)
    except (ValueError, OSError) as e:  # not a checkpoint, not found
        raise CheckpointError(str(e)) from e
    diff = compare_state_dict(model, state_dict, inflation_ok=not resume)
    if diff and not allow_partial:
        raise CheckpointError(
            mismatch_message(path, target, model, state_dict, diff,
                             ' '.join(filter(None, (LOAD_ENDING, advice))),
                             'resume' if resume else 'load'))
    if diff.inflated:
        log_inflation(path, diff)
    if apply_temperature:
        apply_saved_temperature(model, meta, path)
    return diff


def log_inflation(path: str, diff: StateDictDiff) -> None:
    """One line saying which ODConv banks a checkpoint was inflated into
    (and, if nothing else misfits, that the model computes what the
    checkpoint computed)."""
    from mmengine.logging import print_log
    same = ('' if diff else '; the model computes what the checkpoint '
            'computed, and the attention weights it lacks cannot change that')
    print_log(
        f'{path}: the static or 1-kernel weights of {len(diff.inflated)} '
        f'ODConv layers (e.g. {diff.inflated[0]}) were inflated into their '
        f'kernel banks{same}',
        logger='current')


def apply_saved_temperature(model: nn.Module, meta: Optional[dict],
                            source: str) -> Optional[float]:
    """Set every ODConv of ``model`` to the temperature a checkpoint was
    saved at (``meta['odconv_temperature']``, written mid-anneal by
    ``ODConvTemperatureHook``), logging it in one line; the value, or None
    when the checkpoint records none (or the model has no ODConv)."""
    from ..engine.hooks.temperature_hook import META_KEY
    t = (meta or {}).get(META_KEY)
    if t is None:
        return None
    from mmengine.logging import print_log

    from ..layers import set_temperature
    if set_temperature(model, float(t)) == 0:
        return None
    print_log(f'{source}: ODConv temperature {float(t):g}, as saved in the '
              f"checkpoint's meta['{META_KEY}']",
              logger='current')
    return float(t)
