"""What the benchmark scripts share: options, set-up, timing, output.

Timing is ``torch.utils.benchmark``'s (``measure``); the machine's
description comes from ``torch.utils.collect_env``.
"""
import argparse
import datetime
import os
import platform
import re
import shlex
import sys
import time
import warnings
from typing import Any, Callable, Dict, List, Tuple

import torch
import torch.nn as nn
from torch.utils.benchmark import Measurement, Timer

# mmengine imports pkg_resources, which warns with new setuptools.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
HERE = os.path.dirname(os.path.abspath(__file__))
START = time.perf_counter()
DTYPES = dict(float32=torch.float32, bfloat16=torch.bfloat16,
              float16=torch.float16)
Shape = Tuple[int, int, int, int, int]  # C_in, C_out, k, H, W
Call = Callable[[], None]


def parse_shape(text: str) -> Shape:
    parts = text.split('x')
    if len(parts) != 5 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            f'a shape is C_inxC_outxkxHxW, e.g. 64x64x3x56x56, not {text!r}')
    return tuple(map(int, parts))  # type: ignore[return-value]


def shape_name(shape: Shape) -> str:
    return '{}x{} k{} {}x{}'.format(*shape)


def add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--dtype', default='float32', choices=list(DTYPES),
                   help='other than float32: torch.autocast to it (inputs '
                   'in that dtype, modules in float32)')
    p.add_argument('--threads', type=int, help='torch.set_num_threads '
                   "(default: torch's; 1 with --quick)")
    p.add_argument('--no-runtime-setup', action='store_true',
                   help="without our tools' runtime setup (denormals "
                   'flushed, glibc keeping freed blocks up to 32 MiB)')
    p.add_argument('--out', help='output path without extension (default: '
                   'results/{cpu,gpu}_<kind>[_bf16|_fp16][_quick])')
    p.add_argument('--rounds', type=int, default=3,
                   help='interleaved timing rounds (default %(default)s)')
    p.add_argument('--min-run-time', type=float, default=0.3,
                   help='seconds of blocked_autorange per method and round '
                   '(default %(default)s)')
    p.add_argument('--quick', action='store_true', help='a smoke run: 2 '
                   'rounds of 0.05 s, 1 thread, smaller default grid/images')


def prepare(args: argparse.Namespace, kind: str) -> Dict[str, Any]:
    """Apply ``--quick``, the threads and the runtime setup (for every
    method alike), set the default ``--out``; print the machine."""
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda: CUDA is not available to this torch')
    dtype = dict(bfloat16='_bf16', float16='_fp16').get(args.dtype, '')
    args.out = args.out or os.path.join(HERE, 'results', (
        f"{'gpu' if args.device == 'cuda' else 'cpu'}_{kind}{dtype}"
        f"{'_quick' * args.quick}"))
    if args.quick:
        args.rounds, args.min_run_time = 2, 0.05
    if args.threads or args.quick:
        torch.set_num_threads(args.threads or 1)  # --quick: robust when busy
    runtime = 'none (--no-runtime-setup)'
    if not args.no_runtime_setup:
        from mmdet_odconv.workbench.runtime import (flush_denormals,
                                                    tune_cpu_allocator)
        flush_denormals()
        runtime = 'denormals flushed, ' + (
            'glibc mmap/trim thresholds 32/128 MiB' if tune_cpu_allocator()
            else 'allocator untouched (not glibc, or the user chose one)')
    from torch.utils.collect_env import get_env_info
    env = get_env_info()
    cpu = re.search(r'Model name:\s*(.+)', env.cpu_info or '')
    machine = (
        f'{cpu.group(1).strip() if cpu else platform.processor()}, '
        f'{len(os.sched_getaffinity(0))} usable of {os.cpu_count()} cores; '
        f'torch {env.torch_version} ({env.os}), {torch.get_num_threads()} '
        f'threads; runtime: {runtime}')
    if args.device == 'cuda':
        machine = (
            f'{torch.cuda.get_device_name()} (CUDA {torch.version.cuda}, '
            f'cuDNN {torch.backends.cudnn.version()}, cudnn.allow_tf32='
            f'{torch.backends.cudnn.allow_tf32}, matmul.allow_tf32='
            f'{torch.backends.cuda.matmul.allow_tf32}); {machine}')
    print(machine, flush=True)
    if os.getloadavg()[0] >= 1:
        print(f'WARNING: load average {os.getloadavg()[0]:.2f}: other '
              'processes compete for the CPU, timings will be noisy (prefer '
              'an idle machine, or --threads 1)', flush=True)
    return dict(machine=machine,
                loadavg_start=[round(v, 2) for v in os.getloadavg()])


def autocast(device: torch.device, dtype: torch.dtype):
    return torch.autocast(device.type, dtype, enabled=dtype != torch.float32)


def module_step(module: nn.Module, x: torch.Tensor, mode: str,
                dtype: torch.dtype = torch.float32) -> Call:
    """``eval``: a forward under no_grad; ``train``: gradients set to None,
    forward, backward of a fixed random gradient; the input requires grad
    (as for an inner layer)."""
    module.train(mode == 'train')
    xg, grad = x.detach().requires_grad_(True), []

    def forward() -> None:
        with torch.no_grad(), autocast(x.device, dtype):
            module(x)

    def step() -> None:
        xg.grad = None
        module.zero_grad(set_to_none=True)
        with autocast(x.device, dtype):
            out = module(xg)
        grad[:] = grad or [torch.randn_like(out)]
        out.backward(grad[0])

    return step if mode == 'train' else forward


def error_text(err: BaseException) -> str:
    """The error in one line; frees CUDA's cached blocks (after an OOM)."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0][:160]}"


def measure(calls: Dict[Any, Call], rounds: int, min_run_time: float,
            memory: bool = False) -> Dict[Any, Dict[str, Any]]:
    """A warm-up call each, then ``rounds`` interleaved rounds of
    ``blocked_autorange`` per call, merged: ``ms`` (median) or ``error``;
    with ``memory`` also ``peak_bytes``, CUDA's peak during one more call
    above the memory allocated before it."""
    out: Dict[Any, Dict[str, Any]] = {k: {} for k in calls}
    got: Dict[Any, List[Measurement]] = {k: [] for k in calls}
    keys = list(calls)
    for r in range(-1, rounds if keys else -1):  # -1: the warm-up
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            timer = Timer('fn()', globals=dict(fn=calls[k]), label=str(k),
                          num_threads=torch.get_num_threads())
            try:
                if r < 0:
                    calls[k]()
                elif 'error' not in out[k]:
                    got[k].append(timer.blocked_autorange(
                        min_run_time=min_run_time))
            except Exception as err:  # noqa: BLE001  (recorded)
                out[k]['error'] = error_text(err)
    for k, ms in got.items():
        if ms and 'error' not in out[k]:
            out[k]['ms'] = Measurement.merge(ms)[0].median * 1e3
        if memory and 'error' not in out[k]:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            calls[k]()
            torch.cuda.synchronize()
            out[k]['peak_bytes'] = torch.cuda.max_memory_allocated() - base
    return out


def meta(args: argparse.Namespace, info: Dict[str, Any],
         **extra: Any) -> Dict[str, Any]:
    """The run's header: command, date, wall time, machine, options (any
    of which ``extra`` overrides)."""
    argv = getattr(sys, 'orig_argv', None) or ['python'] + sys.argv
    return {**dict(
        command=shlex.join(argv), wall_s=time.perf_counter() - START,
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        device=args.device, dtype=args.dtype, rounds=args.rounds,
        min_run_time=args.min_run_time, quick=args.quick,
        loadavg_end=[round(v, 2) for v in os.getloadavg()]), **info, **extra}


def write(out: str, md: List[str]) -> None:
    """``<out>.md``, replacing the old file only once written in full."""
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out + '.md.tmp', 'w') as f:
        f.write('\n'.join(md) + '\n')
    os.replace(out + '.md.tmp', out + '.md')
