"""Checks of ODConv2d's arguments, with messages that name the fix."""
import math
from typing import Iterable, Sequence, Tuple, Union

from torch.nn.modules.utils import _pair

IntOrPair = Union[int, Tuple[int, int]]

# The attentions of ODConv, in the order of the official heads.
ATTENTION_NAMES = ('channel', 'filter', 'spatial', 'kernel')


def check_attentions(attentions: Iterable[str],
                     kernel_num: int) -> Tuple[str, ...]:
    """The attention names asked for, in ``ATTENTION_NAMES`` order, or a
    ValueError naming the problem (a single string, an unknown name, or
    several kernels without the kernel attention that mixes them)."""
    if isinstance(attentions, (str, bytes)):
        raise ValueError(
            'attentions must be a collection of attention names, e.g. '
            f"('channel', 'kernel'), got the string {attentions!r}")
    try:
        names = list(attentions)
    except TypeError:
        raise ValueError(
            'attentions must be a collection of attention names out of '
            f'{ATTENTION_NAMES}, got {attentions!r}') from None
    unknown = [a for a in names if a not in ATTENTION_NAMES]
    if unknown:
        raise ValueError(f'unknown attention name(s) {unknown} in '
                         f'attentions={attentions!r}; the names are '
                         f'{ATTENTION_NAMES}')
    if kernel_num > 1 and 'kernel' not in names:
        raise ValueError(
            f'kernel_num={kernel_num} needs the kernel attention, which '
            'mixes the bank: add \'kernel\' to attentions '
            f'(got {tuple(names)}) or use kernel_num=1')
    return tuple(a for a in ATTENTION_NAMES if a in names)


def check_temperature(value) -> float:
    """``value`` as a float if it is one finite real number > 0 (a Python or
    numpy number, or a one-element tensor), else a ValueError naming it."""
    number = None
    if not isinstance(value, (bool, str, bytes)):
        try:
            number = float(value)
        except (TypeError, ValueError, RuntimeError):
            pass
    if number is None or not (number > 0 and math.isfinite(number)):
        raise ValueError('temperature must be > 0 and finite (one real '
                         f'number), got {value!r}')
    return number


def resolve_padding(padding: Union[IntOrPair, str],
                    kernel_size: Tuple[int, int], stride: Tuple[int, int],
                    dilation: Tuple[int, int]) -> Tuple[int, int]:
    """Padding as two ints; ``'valid'`` and ``'same'`` as in nn.Conv2d."""
    if isinstance(padding, str):
        if padding == 'valid':
            return (0, 0)
        if padding != 'same':
            raise ValueError("padding must be an int, a pair, 'valid' or "
                             f"'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError("padding='same' needs stride 1 (as in "
                             f'nn.Conv2d), got stride={stride}')
        total = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
        if any(t % 2 for t in total):
            raise ValueError(
                "padding='same' with an even effective kernel needs uneven "
                'padding, which ODConv2d does not support; use an odd '
                'kernel_size or pad the input explicitly')
        return (total[0] // 2, total[1] // 2)
    pad = _pair(padding)
    if not all(isinstance(p, int) and p >= 0 for p in pad):
        raise ValueError(f'padding must be ints >= 0, got {padding!r}')
    return pad


def check_args(in_channels: int, out_channels: int, kernel_size: IntOrPair,
               stride: IntOrPair, dilation: IntOrPair, groups: int,
               kernel_num: int, reduction: float, min_channel: int) -> None:
    """Raise a clear error for invalid constructor arguments."""
    for name, v in (('in_channels', in_channels),
                    ('out_channels', out_channels), ('groups', groups),
                    ('kernel_num', kernel_num), ('min_channel', min_channel)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f'{name} must be an int >= 1, got {v!r}')
    for name, v in (('kernel_size', kernel_size), ('stride', stride),
                    ('dilation', dilation)):
        if not all(
                isinstance(k, int) and not isinstance(k, bool) and k >= 1
                for k in _pair_or_seq(v)):
            raise ValueError(f'{name} must be positive ints, got {v!r}')
    ks = _pair(kernel_size)
    if ks[0] != ks[1]:
        raise ValueError('ODConv2d supports square kernels only, got '
                         f'kernel_size={kernel_size}')
    if in_channels % groups:
        raise ValueError(f'in_channels ({in_channels}) must be divisible by '
                         f'groups ({groups})')
    if out_channels % groups:
        raise ValueError(f'out_channels ({out_channels}) must be divisible '
                         f'by groups ({groups})')
    if not (isinstance(reduction, (int, float)) and reduction > 0
            and math.isfinite(reduction)):
        raise ValueError(f'reduction must be a number > 0 (a fraction of '
                         f'in_channels, e.g. 0.0625), got {reduction!r}')


def _pair_or_seq(v) -> Sequence:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)
