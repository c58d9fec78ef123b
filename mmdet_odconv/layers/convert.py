"""Turn the ``nn.Conv2d`` layers of any PyTorch model into ODConv2d."""
from typing import Callable, List, Optional

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
    than zeros, transposed convs, subclasses with their own forward) are
    left as they are and named in one log line.

    Args:
        model: Any ``nn.Module``.
        kernel_num: Kernels in each bank.
        predicate: ``(qualified_name, conv) -> bool`` choosing the convs.
        **odconv_kwargs: Other ``ODConv2d`` arguments (e.g. ``reduction``).
    """
    skipped: List[str] = []
    converted = _convert(model, '', kernel_num, predicate, odconv_kwargs,
                         skipped)
    if skipped:
        log(f'convert_to_odconv: left {len(skipped)} conv(s) static: ' +
            '; '.join(skipped))
    return converted


def _convert(module: nn.Module, name: str, kernel_num: int,
             predicate: Optional[Predicate], kwargs: dict,
             skipped: List[str]) -> nn.Module:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and (
            predicate is None or predicate(name, module)):
        reason = _unsupported(module)
        if reason:
            skipped.append(f'{name or type(module).__name__} ({reason})')
            return module
        return _to_odconv(module, kernel_num, kwargs)
    for child_name, child in module.named_children():
        full = f'{name}.{child_name}' if name else child_name
        new = _convert(child, full, kernel_num, predicate, kwargs, skipped)
        if new is not child:
            setattr(module, child_name, new)
    return module


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
