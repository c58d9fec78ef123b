"""Turn the ``nn.Conv2d`` layers of any PyTorch model into ODConv2d."""
from collections import Counter
from typing import Callable, Dict, List, Optional, Tuple

import torch.nn as nn

from ._args import resolve_padding
from ._log import log
from .odconv import ODConv2d

Predicate = Callable[[str, nn.Module], bool]


def convert_to_odconv(model: nn.Module,
                      kernel_num: int = 4,
                      predicate: Optional[Predicate] = None,
                      **odconv_kwargs) -> nn.Module:
    """Replace every ``nn.Conv2d`` of ``model`` by an ``ODConv2d``.

    Like ``nn.SyncBatchNorm.convert_sync_batchnorm``: the model is changed
    in place and returned (a bare conv is returned converted). Only convs
    for which ``predicate(name, conv)`` is true are taken, if given. Each
    new layer has the conv's geometry, device and dtype, and its static
    weight inflated into the bank as a static checkpoint is, so the model
    in eval mode computes what it computed before until it is trained.
    Convs ODConv2d cannot replace (non-square kernels, padding modes other
    than zeros, transposed convs, subclasses with their own forward, and
    convs whose weight is tied to another module's, which a bank of its
    own would untie) are left as they are and named in one log line.

    ODConv layers already in the model, and everything inside them (the
    1x1 convs of their attention), are left alone, so converting twice
    changes nothing. A conv registered under several parents (shared
    weights) is judged once, under its first name in
    ``model.named_modules()``, and its one ODConv2d takes its place under
    every parent: the sharing is kept.

    Args:
        model: Any ``nn.Module``.
        kernel_num: Kernels in each bank.
        predicate: ``(qualified_name, conv) -> bool`` choosing the convs.
        **odconv_kwargs: Other ``ODConv2d`` arguments (e.g. ``reduction``).
    """
    skipped: List[str] = []
    replaced: Dict[int, Tuple[nn.Module, nn.Module]] = {}
    owners = Counter(id(p) for m in model.modules()
                     for p in m.parameters(recurse=False))
    converted = _convert(model, '', kernel_num, predicate,
                         odconv_kwargs, skipped, replaced, owners)
    if skipped:
        log(f'convert_to_odconv: left {len(skipped)} conv(s) static: ' +
            '; '.join(skipped))
    return converted


def _convert(module: nn.Module, name: str, kernel_num: int,
             predicate: Optional[Predicate], kwargs: dict,
             skipped: List[str],
             replaced: Dict[int, Tuple[nn.Module, nn.Module]],
             owners: Counter) -> nn.Module:
    """``module`` converted. ``replaced`` maps the id of each module seen
    to (the module, kept alive so that its id stays unique; what takes its
    place), so a shared conv is judged once and a shared container walked
    once."""
    if id(module) in replaced:
        return replaced[id(module)][1]
    new = module
    if isinstance(module, ODConv2d):
        pass  # already ODConv: its attention's convs are its own
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        if predicate is None or predicate(name, module):
            reason = _unsupported(module)
            if not reason and any(owners[id(p)] > 1
                                  for p in module.parameters()):
                reason = 'its weight is tied to another module\'s'
            if reason:
                skipped.append(f'{name or type(module).__name__} ({reason})')
            else:
                new = _to_odconv(module, kernel_num, kwargs)
    else:
        replaced[id(module)] = (module, module)  # cycles end here
        for child_name, child in module.named_children():
            full = f'{name}.{child_name}' if name else child_name
            new_child = _convert(child, full, kernel_num, predicate, kwargs,
                                 skipped, replaced, owners)
            if new_child is not child:
                setattr(module, child_name, new_child)
    replaced[id(module)] = (module, new)
    return new


def _unsupported(conv: nn.Module) -> str:
    """Why ``conv`` cannot become an ODConv2d ('' if it can)."""
    if isinstance(conv, nn.ConvTranspose2d):
        return 'transposed'
    if conv.kernel_size[0] != conv.kernel_size[1]:
        return f'non-square kernel {tuple(conv.kernel_size)}'
    if conv.padding_mode != 'zeros':
        return f'padding_mode={conv.padding_mode!r}'
    if type(conv).forward is not nn.Conv2d.forward \
            and not _is_mmcv_conv_wrapper(conv):
        return f'{type(conv).__name__} has its own forward'
    try:  # the padding rule of ODConv2d itself ('same' needs it symmetric)
        resolve_padding(conv.padding, conv.kernel_size, conv.stride,
                        conv.dilation)
    except ValueError as e:
        return str(e)
    return ''


def _is_mmcv_conv_wrapper(conv: nn.Module) -> bool:
    """MMCV's ``Conv2d`` wrapper only adds empty-input support of old
    torch versions: it computes what ``nn.Conv2d`` does."""
    try:
        from mmcv.cnn.bricks.wrappers import Conv2d
    except ImportError:
        return False
    return type(conv) is Conv2d


def conv_geometry(conv: nn.Module) -> dict:
    """The constructor arguments of ``nn.Conv2d`` (or ``ODConv2d``) that
    another conv needs to take ``conv``'s place."""
    return dict(
        in_channels=conv.in_channels,
        out_channels=conv.out_channels,
        kernel_size=conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=conv.bias is not None)


def _to_odconv(conv: nn.Conv2d, kernel_num: int, kwargs: dict) -> ODConv2d:
    new = ODConv2d(
        **conv_geometry(conv), kernel_num=kernel_num,
        **kwargs).to(device=conv.weight.device, dtype=conv.weight.dtype)
    missing, unexpected = new.load_state_dict(conv.state_dict(), strict=False)
    assert not unexpected and all(
        k.startswith('attention.') for k in missing), (missing, unexpected)
    new.train(conv.training)
    return new
