"""Process-wide settings our tools apply before building a runner."""
import ctypes
import ctypes.util
import os
import sys
from typing import Optional

import torch

# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc's own ceiling for the mmap threshold on 64-bit systems.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20
# Settings that mean the user already chose an allocator policy.
_ALLOCATOR_ENV = ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_',
                  'MALLOC_TOP_PAD_', 'GLIBC_TUNABLES')
_ALLOCATOR_PRELOADS = ('jemalloc', 'tcmalloc', 'mimalloc')


def setup_runtime() -> None:
    """Flush denormals and keep freed CPU memory for reuse (see below)."""
    flush_denormals()
    tune_cpu_allocator()


def flush_denormals() -> None:
    """Flush denormal floats to zero on the CPU.

    ODConv's sigmoid attentions of strongly negative logits produce values
    below float32's normal range, and CPU arithmetic on such denormals is
    many times slower (docs/speed.md). Flushing them changes results
    by less than 1e-38 per value. GPUs already flush by default in the
    relevant kernels.
    """
    torch.set_flush_denormal(True)


def tune_cpu_allocator(mmap_threshold: int = MMAP_THRESHOLD,
                       trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Let glibc reuse freed blocks of up to 32 MiB instead of unmapping them.

    PyTorch's CPU allocator calls malloc/free directly. glibc serves blocks
    above its mmap threshold (128 KiB at start) with fresh pages, so a
    tensor of a few MB allocated per call (ODConv's per-sample kernels; any
    conv's output) page-faults all of its memory every time
    (docs/speed.md). PyTorch's CPU tuning guide suggests jemalloc
    or tcmalloc for the same reason; this is the same effect without a
    preload. Skipped (returns False) outside glibc, or when the user set
    glibc's malloc variables or preloads another allocator.
    """
    if not sys.platform.startswith('linux') or _allocator_chosen():
        return False
    libc = _glibc()
    if libc is None:
        return False
    ok = libc.mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
    return ok and libc.mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1


def _allocator_chosen() -> bool:
    preload = os.environ.get('LD_PRELOAD', '')
    return (any(k in os.environ for k in _ALLOCATOR_ENV)
            or any(a in preload for a in _ALLOCATOR_PRELOADS))


def _glibc() -> Optional[ctypes.CDLL]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        libc.gnu_get_libc_version  # only glibc has it
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        return libc
    except (OSError, AttributeError):
        return None
