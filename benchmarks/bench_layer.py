"""Layer benchmark: ODConv2d vs nn.Conv2d vs the official formulation.

For every shape (C_in, C_out, k, H, W) (stride 1, padding k // 2), batch
size B, kernel number n and mode, times in one process, interleaved:

- ``static``: ``nn.Conv2d`` of the same shape (bias=False), the floor;
- ``ours``: ``mmdet_odconv.ODConv2d`` with ``impl='auto'``;
- ``reference``: ``FoldedODConv2d`` (benchmarks/reference_odconv.py), the
  official code's batch-folded formulation;
- with ``--impls``: ``ours[<impl>]`` for every forced impl that applies to
  the case (so the 'auto' choice can be tuned).

``eval`` times the forward under ``torch.no_grad()``; ``train`` times
forward + backward (the input requires grad, as for an inner layer).
The median over the repeats is reported, plus a peak-memory figure per
call (``torch.cuda.max_memory_allocated`` on CUDA; on CPU the peak of the
bytes allocated through PyTorch's CPU allocator during the call, from the
memory events of ``torch.profiler``). Writes ``<out>.md``, ``<out>.json``
and ``<out>.png``; see benchmarks/README.md.
"""
import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import shlex
import statistics
import sys
import time
import warnings
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple)

import torch
import torch.nn as nn

# mmengine imports pkg_resources, which warns on every run with new
# setuptools; nothing to act on here.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from mmdet_odconv import IMPLS, ODConv2d  # noqa: E402
from mmdet_odconv.utils.runtime import (flush_denormals,  # noqa: E402
                                        tune_cpu_allocator)
from reference_odconv import FoldedODConv2d, self_check  # noqa: E402

Shape = Tuple[int, int, int, int, int]  # C_in, C_out, k, H, W

SHAPES: List[Shape] = [
    (64, 64, 3, 100, 168),
    (256, 256, 3, 50, 84),
    (512, 512, 3, 25, 42),
    (64, 64, 3, 56, 56),
    (256, 256, 3, 14, 14),
    (256, 1024, 1, 50, 84),
    (1024, 256, 1, 50, 84),
]
QUICK_SHAPES: List[Shape] = [(64, 64, 3, 56, 56), (1024, 256, 1, 50, 84)]
BATCHES = [1, 2, 8, 32]
KERNEL_NUMS = [1, 4]
MODES = ['train', 'eval']
DTYPES = {
    'float32': torch.float32,
    'bfloat16': torch.bfloat16,
    'float16': torch.float16
}
BASE_METHODS = ['static', 'ours', 'reference']
CPU_MEMORY_PROXY = ('CPU proxy: peak of the bytes allocated through '
                    "PyTorch's CPU allocator during one call, above the "
                    'level at its start (torch.profiler memory events); '
                    'includes transients and parameter gradients')
CUDA_MEMORY_PROXY = ('torch.cuda.max_memory_allocated during one call minus '
                     'torch.cuda.memory_allocated before it')


# ----------------------------------------------------------------- helpers
def shape_name(shape: Shape) -> str:
    c_in, c_out, k, h, w = shape
    return f'{c_in}x{c_out} k{k} {h}x{w}'


def parse_shape(text: str) -> Shape:
    """'C_inxC_outxkxHxW' (or comma separated) -> tuple."""
    parts = text.replace(',', 'x').split('x')
    if len(parts) != 5:
        raise argparse.ArgumentTypeError(
            f'shape must be C_inxC_outxkxHxW, e.g. 64x64x3x56x56, got '
            f'{text!r}')
    return tuple(int(p) for p in parts)  # type: ignore[return-value]


def applicable_impls(shape: Shape, batch: int, n: int) -> List[str]:
    """Forced impls that do not silently fall back to 'loop'."""
    k = shape[2]
    impls = []
    for impl in IMPLS:
        if impl == 'auto':
            continue
        if impl == 'static' and not (n == 1 and k == 1):
            continue
        if impl == 'single' and batch != 1:
            continue
        if impl == 'matmul' and k != 1:
            continue
        impls.append(impl)
    return impls


def conv_flops(shape: Shape, batch: int, mode: str) -> float:
    """Multiply-adds x 2 of the static conv (backward counted as 2x)."""
    c_in, c_out, k, h, w = shape
    fwd = 2.0 * batch * c_in * c_out * k * k * h * w
    return fwd * (3.0 if mode == 'train' else 1.0)


def estimate_bytes(shape: Shape, batch: int, n: int, mode: str,
                   act_bytes: int) -> float:
    """Rough peak of the most memory-hungry method (the reference, which
    materialises a (B, n, C_out, C_in, k, k) float32 tensor)."""
    c_in, c_out, k, h, w = shape
    bank = batch * n * c_out * c_in * k * k * 4.0
    kernels = batch * c_out * c_in * k * k * 4.0
    acts = batch * (c_in + c_out) * h * w * act_bytes
    if mode == 'train':
        return 2 * bank + 3 * kernels + 4 * acts
    return bank + kernels + 2 * acts


def machine_info(device: torch.device) -> Dict[str, Any]:
    info: Dict[str, Any] = {
        'torch': torch.__version__,
        'python': platform.python_version(),
        'threads': torch.get_num_threads(),
        'cpu_count': os.cpu_count(),
    }
    try:
        info['cpu_affinity'] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    cpu = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    info['cpu'] = cpu
    try:
        info['loadavg_start'] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
        info['cuda'] = torch.version.cuda
        info['cudnn'] = torch.backends.cudnn.version()
        info['cudnn_allow_tf32'] = torch.backends.cudnn.allow_tf32
        info['matmul_allow_tf32'] = torch.backends.cuda.matmul.allow_tf32
    return info


def machine_line(info: Dict[str, Any]) -> str:
    cores = info['cpu_count']
    if info.get('cpu_affinity') not in (None, cores):
        cores = f"{info['cpu_affinity']} usable of {cores}"
    parts = []
    if 'gpu' in info:
        parts.append(f"{info['gpu']} (CUDA {info['cuda']}, cuDNN "
                     f"{info['cudnn']}, cudnn.allow_tf32="
                     f"{info['cudnn_allow_tf32']}, matmul.allow_tf32="
                     f"{info['matmul_allow_tf32']})")
    parts.append(f"{info['cpu']}, {cores} cores")
    parts.append(f"torch {info['torch']}, {info['threads']} threads")
    if info.get('runtime'):
        parts.append(f"runtime: {info['runtime']}")
    return '; '.join(parts)


def apply_runtime_setup(enabled: bool) -> str:
    """Apply (or not) what our tools' ``setup_runtime`` does; describe it.

    Both sides of every ratio run in this process, so the setting applies
    to the static conv as much as to ODConv.
    """
    if not enabled:
        return 'none (--no-runtime-setup)'
    flush_denormals()
    tuned = tune_cpu_allocator()
    return ('setup_runtime: denormals flushed, '
            + ('glibc mmap/trim thresholds 32/128 MiB'
               if tuned else 'allocator untouched (not glibc, or the '
               'user set one)'))


def warn_if_busy(info: Dict[str, Any]) -> None:
    """Warn when other processes load the CPU (timings get noisy; with
    several threads, OpenMP workers wait on descheduled peers)."""
    load1 = (info.get('loadavg_start') or [0.0])[0]
    if load1 >= 1.0:
        print(
            f'WARNING: load average {load1:.1f} at start: other processes '
            'compete for the CPU, so timings will be noisy; prefer an idle '
            'machine (or --threads 1, which suffers less).',
            flush=True)


def exact_command() -> str:
    argv = getattr(sys, 'orig_argv', None) or ['python'] + sys.argv
    return shlex.join(argv)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null (Kineto logs two lines per
    profiling session from C++, whatever KINETO_LOG_LEVEL says)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


# ---------------------------------------------------------------- timing
class Runner:
    """Builds the call of one method for one case and measures it."""

    def __init__(self, device: torch.device, dtype: torch.dtype) -> None:
        self.device = device
        self.dtype = dtype
        self.autocast = dtype != torch.float32

    def sync(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def make_call(self, module: nn.Module, x: torch.Tensor,
                  mode: str) -> Tuple[Callable[[], None], Callable[[], None]]:
        """Return (call, reset): ``call`` runs one timed step, ``reset``
        clears gradients between steps (not timed)."""
        device_type = self.device.type

        def autocast():
            return torch.autocast(
                device_type, dtype=self.dtype, enabled=self.autocast)

        if mode == 'eval':
            module.eval()

            def call() -> None:
                with torch.no_grad(), autocast():
                    module(x)

            return call, lambda: None

        module.train()
        xg = x.detach().requires_grad_(True)
        grads: List[torch.Tensor] = []  # made by the first (warm-up) call

        def call() -> None:
            with autocast():
                out = module(xg)
            if not grads:
                grads.append(torch.randn_like(out))
            out.backward(grads[0])

        def reset() -> None:
            xg.grad = None
            module.zero_grad(set_to_none=True)

        return call, reset

    def time_call(self, call: Callable[[], None],
                  reset: Callable[[], None]) -> float:
        reset()
        self.sync()
        t0 = time.perf_counter()
        call()
        self.sync()
        return time.perf_counter() - t0

    def peak_bytes(self, call: Callable[[], None],
                   reset: Callable[[], None]) -> int:
        reset()
        if self.device.type == 'cuda':
            self.sync()
            torch.cuda.reset_peak_memory_stats(self.device)
            base = torch.cuda.memory_allocated(self.device)
            call()
            self.sync()
            return torch.cuda.max_memory_allocated(self.device) - base
        from torch.profiler import ProfilerActivity, profile
        with quiet_stderr(), profile(
                activities=[ProfilerActivity.CPU],
                profile_memory=True) as prof:
            call()
        events = [
            e for e in prof.profiler.kineto_results.events()
            if e.name() == '[memory]'
        ]
        events.sort(key=lambda e: e.start_ns())
        cur = peak = 0
        for e in events:
            cur += e.nbytes()
            peak = max(peak, cur)
        return peak


def build_modules(shape: Shape, n: int, methods: Sequence[str],
                  device: torch.device) -> Dict[str, nn.Module]:
    c_in, c_out, k, _, _ = shape
    pad = k // 2
    ours = ODConv2d(c_in, c_out, k, padding=pad, kernel_num=n)
    mods: Dict[str, nn.Module] = {}
    for m in methods:
        if m == 'static':
            mods[m] = nn.Conv2d(c_in, c_out, k, padding=pad, bias=False)
        elif m == 'ours':
            mods[m] = ours
        elif m == 'reference':
            mods[m] = FoldedODConv2d.from_odconv(ours)
        elif m.startswith('ours['):
            impl = m[5:-1]
            forced = ODConv2d(
                c_in, c_out, k, padding=pad, kernel_num=n, impl=impl)
            forced.load_state_dict(ours.state_dict())
            mods[m] = forced
        else:
            raise ValueError(m)
    return {m: mod.to(device) for m, mod in mods.items()}


def auto_impl(module: nn.Module, x: torch.Tensor) -> Optional[str]:
    """The impl ODConv2d's 'auto' picks (None if it does not say)."""
    choose = getattr(module, '_choose_impl', None)
    if choose is None:
        return None
    try:
        return str(choose(x))
    except Exception:  # private API of the layer; best effort only
        return None


def is_oom(err: BaseException) -> bool:
    if isinstance(err, (MemoryError, torch.cuda.OutOfMemoryError)):
        return True
    return 'out of memory' in str(err).lower()


def run_case(runner: Runner, case: Dict[str, Any], methods: List[str],
             args: argparse.Namespace, est_round: float) -> float:
    """Measure one case in place; return the measured time of one round
    (one call of every method)."""
    shape = tuple(case['shape'])
    batch, n, mode = case['batch'], case['kernel_num'], case['mode']
    device = runner.device
    torch.manual_seed(0)
    mods = build_modules(shape, n, methods, device)  # type: ignore[arg-type]
    x = torch.randn(
        batch, shape[0], shape[3], shape[4], device=device, dtype=runner.dtype)
    case['auto_impl'] = auto_impl(mods['ours'], x) if 'ours' in mods else None
    calls: Dict[str, Tuple[Callable[[], None], Callable[[], None]]] = {}
    errors: Dict[str, str] = {}
    for m, mod in mods.items():
        try:
            calls[m] = runner.make_call(mod, x, mode)
        except Exception as err:  # noqa: BLE001  (recorded, not fatal)
            errors[m] = _error_text(err)
            _free(device)
    times: Dict[str, List[float]] = {m: [] for m in calls}

    def one_round(rotate: int, record: bool) -> float:
        total = 0.0
        order = list(calls)
        order = order[rotate % len(order):] + order[:rotate % len(order)]
        for m in order:
            if m in errors:
                continue
            try:
                t = runner.time_call(*calls[m])
            except Exception as err:  # noqa: BLE001
                errors[m] = _error_text(err)
                _free(device)
                continue
            total += t
            if record:
                times[m].append(t)
        return total

    round_time = est_round
    for i in range(args.warmup):
        round_time = one_round(i, record=False)
    # Fit warm-up, repeats and the memory pass in the case budget (but
    # keep at least --min-repeats).
    other = args.warmup + (0 if args.no_memory else 1)
    budget = int(args.max_seconds_per_case / max(round_time, 1e-9)) - other
    repeats = max(min(args.repeats, budget), args.min_repeats)
    # Millisecond cases are the noisiest (a 1 ms conv varied 1.0-1.7 ms
    # between rounds here): give them more rounds, up to --min-case-seconds.
    if round_time * repeats < args.min_case_seconds:
        repeats = min(max(args.max_repeats, repeats),
                      math.ceil(args.min_case_seconds / max(round_time, 1e-9)))
    for i in range(repeats):
        one_round(i, record=True)
    measured = (
        sum(statistics.median(v) for v in times.values()
            if v) if any(times.values()) else round_time)
    peaks: Dict[str, int] = {}
    if not args.no_memory:
        for m, (call, reset) in calls.items():
            if m in errors:
                continue
            try:
                peaks[m] = int(runner.peak_bytes(call, reset))
            except Exception as err:  # noqa: BLE001
                errors[m] = _error_text(err)
                _free(device)
    case['repeats'] = repeats
    case['results'] = {}
    for m in methods:
        res: Dict[str, Any] = {}
        if m in errors:
            res['error'] = errors[m]
        if times.get(m):
            res['median_ms'] = statistics.median(times[m]) * 1e3
            res['min_ms'] = min(times[m]) * 1e3
            res['times_ms'] = [t * 1e3 for t in times[m]]
        if m in peaks:
            res['peak_bytes'] = peaks[m]
        case['results'][m] = res
    case['ratios'] = case_ratios(case)
    case['status'] = 'ok'
    del calls, mods, x
    _free(device)
    return measured


def _error_text(err: BaseException) -> str:
    kind = 'out of memory' if is_oom(err) else type(err).__name__
    return f'{kind}: {str(err).splitlines()[0][:160] if str(err) else ""}'


def _free(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def case_ratios(case: Dict[str, Any]) -> Dict[str, float]:
    res = case['results']

    def med(m: str) -> Optional[float]:
        return res.get(m, {}).get('median_ms')

    def peak(m: str) -> Optional[int]:
        return res.get(m, {}).get('peak_bytes')

    out: Dict[str, float] = {}
    pairs = [('ours/static', med('ours'), med('static')),
             ('reference/static', med('reference'), med('static')),
             ('ours/reference', med('ours'), med('reference')),
             ('peak ours/reference', peak('ours'), peak('reference'))]
    for m in res:
        if m.startswith('ours['):
            pairs.append((f'{m}/static', med(m), med('static')))
    for name, a, b in pairs:
        if a is not None and b:
            out[name] = a / b
    return out


# ---------------------------------------------------------------- report
def summarise(cases: List[Dict[str, Any]], tol: float) -> Dict[str, Any]:
    """Summary numbers and the tracked targets."""
    ok = [c for c in cases if c['status'] == 'ok']
    summary: Dict[str, Any] = {
        'geomean_ours_static_train': {},
        'geomean_reference_static_train': {},
        'geomean_ours_static_eval': {},
        'b1_eval_ours_static_3x3': []
    }
    for n in sorted({c['kernel_num'] for c in ok}):
        for key, mode, ratio in (('geomean_ours_static_train', 'train',
                                  'ours/static'),
                                 ('geomean_reference_static_train', 'train',
                                  'reference/static'),
                                 ('geomean_ours_static_eval', 'eval',
                                  'ours/static')):
            vals = [
                c['ratios'][ratio] for c in ok if c['kernel_num'] == n
                and c['mode'] == mode and ratio in c['ratios']
            ]
            if vals:
                summary[key][str(n)] = {
                    'value': geomean(vals),
                    'cases': len(vals)
                }
    worst = None
    for c in ok:
        r = c['ratios'].get('ours/reference')
        if r is not None and (worst is None or r > worst[0]):
            worst = (r, c)
    if worst:
        summary['worst_ours_reference'] = {
            'value': worst[0],
            'case': case_label(worst[1])
        }
    for c in ok:
        if c['batch'] == 1 and c['mode'] == 'eval' and c['shape'][2] == 3:
            r = c['ratios'].get('ours/static')
            if r is not None:
                summary['b1_eval_ours_static_3x3'].append({
                    'shape':
                    shape_name(tuple(c['shape'])),
                    'kernel_num':
                    c['kernel_num'],
                    'value':
                    r
                })

    targets = []
    # 1. ours <= reference everywhere (within the timing tolerance).
    rs = [(c['ratios']['ours/reference'], c) for c in ok
          if 'ours/reference' in c['ratios']]
    bad = [(r, c) for r, c in rs if r > 1 + tol]
    targets.append(
        _target(
            f'ours <= reference at every case (timing tolerance {tol:.0%})',
            rs, bad,
            lambda: f'max ours/reference {max(r for r, _ in rs):.2f}'))
    # 1b. >= 2x faster where the reference is >= 3x static.
    rs = [(c['ratios']['ours/reference'], c) for c in ok
          if c['ratios'].get('reference/static', 0) >= 3
          and 'ours/reference' in c['ratios']]
    bad = [(r, c) for r, c in rs if r > 0.5]
    targets.append(
        _target(
            'ours >= 2x faster than reference (ours/reference <= 0.5) where '
            'reference >= 3x static', rs, bad,
            lambda: f'{len(rs)} such cases, max ours/reference '
            f'{max(r for r, _ in rs):.2f}'))
    # 2. geometric mean vs nn.Conv2d (train fwd+bwd).
    for n, limit in (('1', 1.25), ('4', 1.6)):
        g = summary['geomean_ours_static_train'].get(n)
        status = 'n/a' if g is None else (
            'PASS' if g['value'] <= limit else 'FAIL')
        detail = 'no data' if g is None else (
            f"{g['value']:.2f}x over {g['cases']} cases")
        targets.append({
            'target': f'geomean ours/static, train, n={n} '
            f'<= {limit}x',
            'status': status,
            'detail': detail
        })
    # 3. B=1 eval at every 3x3 shape.
    b1 = summary['b1_eval_ours_static_3x3']
    target = 'B=1 eval ours/static <= 1.15x at every 3x3 shape'
    if not b1:
        targets.append({
            'target': target,
            'status': 'n/a',
            'detail': 'no data'
        })
    else:
        bad = [e for e in b1 if e['value'] > 1.15]
        worst = max(b1, key=lambda e: e['value'])
        detail = (f"worst {worst['shape']} n={worst['kernel_num']}: "
                  f"{worst['value']:.2f}x")
        if bad:
            detail += f'; {len(bad)} of {len(b1)} above'
        targets.append({
            'target': target,
            'status': 'FAIL' if bad else 'PASS',
            'detail': detail
        })
    # 4. train peak memory never above the reference.
    rs = [(c['ratios']['peak ours/reference'], c) for c in ok
          if c['mode'] == 'train' and 'peak ours/reference' in c['ratios']]
    bad = [(r, c) for r, c in rs if r > 1.0]
    targets.append(
        _target(
            'train peak memory ours <= reference at every case', rs, bad,
            lambda: f'max peak ours/reference {max(r for r, _ in rs):.2f}'))
    summary['targets'] = targets
    return summary


def _target(name: str, rs: list, bad: list,
            detail: Callable[[], str]) -> Dict[str, str]:
    if not rs:
        return {'target': name, 'status': 'n/a', 'detail': 'no data'}
    text = detail()
    if bad:
        text += '; failing: ' + ', '.join(f'{case_label(c)} ({r:.2f})'
                                          for r, c in bad[:6])
        if len(bad) > 6:
            text += f' and {len(bad) - 6} more'
    return {
        'target': name,
        'status': 'FAIL' if bad else 'PASS',
        'detail': text
    }


def case_label(c: Dict[str, Any]) -> str:
    return (f"{shape_name(tuple(c['shape']))} B={c['batch']} "
            f"n={c['kernel_num']} {c['mode']}")


def summary_lines(summary: Dict[str, Any]) -> List[str]:
    lines = []
    for n, g in summary['geomean_ours_static_train'].items():
        ref = summary['geomean_reference_static_train'].get(n)
        ev = summary['geomean_ours_static_eval'].get(n)
        lines.append(f"geomean overhead vs nn.Conv2d, train fwd+bwd, n={n}: "
                     f"ours {g['value']:.2f}x" +
                     (f", reference {ref['value']:.2f}x" if ref else '') +
                     f" ({g['cases']} cases)" +
                     (f"; eval: ours {ev['value']:.2f}x" if ev else ''))
    w = summary.get('worst_ours_reference')
    if w:
        lines.append(f"worst ours/reference: {w['value']:.2f} at "
                     f"{w['case']}")
    for e in summary['b1_eval_ours_static_3x3']:
        lines.append(f"B=1 eval ours/static, {e['shape']} "
                     f"n={e['kernel_num']}: {e['value']:.2f}x")
    return lines


def _fmt_ms(res: Dict[str, Any]) -> str:
    if 'median_ms' in res:
        v = res['median_ms']
        return f'{v:.3g}' if v < 100 else f'{v:.0f}'
    return 'err' if 'error' in res else '-'


def _fmt_mb(res: Dict[str, Any]) -> str:
    return f"{res['peak_bytes'] / 2**20:.1f}" if 'peak_bytes' in res else '-'


def load(meta: Dict[str, Any], when: str) -> str:
    v = meta['machine'].get(f'loadavg_{when}')
    return '?' if v is None else ' / '.join(f'{x:.2f}' for x in v)


def write_markdown(path: str, data: Dict[str, Any]) -> None:
    meta = data['meta']
    methods = meta['methods']
    extra = [m for m in methods if m.startswith('ours[')]
    lines = [
        f"# ODConv2d layer benchmark ({meta['device']}, {meta['dtype']})",
        '',
        f"- Machine: {machine_line(meta['machine'])}",
        f"- Command: `{meta['command']}`",
        f"- Date: {meta['date']}; {meta['wall_s']:.0f} s from start-up "
        'to the end of measuring; '
        f'load average (1, 5, 15 min) at start {load(meta, "start")}, '
        f'at end {load(meta, "end")} (other processes on the cores make '
        'CPU timings noisy)',
        f"- Timing: median of {meta['repeats']} repeats (up to "
        f"{meta.get('max_repeats', meta['repeats'])} for cases faster than "
        f"{meta.get('min_case_seconds', 0):g} s in all; at least "
        f"{meta['min_repeats']}, fewer when a case would exceed "
        f"{meta['max_seconds_per_case']} s) after {meta['warmup']} warm-up "
        'call(s); methods interleaved in one process. eval = forward '
        'under no_grad; train = forward + backward (input requires grad).',
        f"- Peak memory: {meta['memory_proxy']}.",
        '- `--quick`: a smoke run of the harness (few shapes and repeats); '
        'not a measurement to quote.' if meta.get('quick') else None,
        '- Ratios are ours/static = ODConv2d(auto) / nn.Conv2d, '
        'ref/static = FoldedODConv2d / nn.Conv2d, ours/ref; below 1 means '
        'ours is faster (or smaller).',
        '',
        '## Summary',
        '',
    ]
    lines = [ln for ln in lines if ln is not None]
    lines += [f'- {s}' for s in summary_lines(data['summary'])]
    lines += ['', '| target | status | detail |', '|---|---|---|']
    for t in data['summary']['targets']:
        lines.append(f"| {t['target']} | {t['status']} | {t['detail']} |")
    skipped = [c for c in data['cases'] if c['status'] != 'ok']
    for mode in MODES:
        rows = [c for c in data['cases'] if c['mode'] == mode]
        if not rows:
            continue
        what = 'forward + backward' if mode == 'train' else 'forward'
        lines += ['', f'## {mode} ({what}), ms', '']
        head = [
            'shape', 'B', 'n', 'static', 'ours', 'ref', 'ours/static',
            'ref/static', 'ours/ref', 'auto impl', 'MB static', 'MB ours',
            'MB ref'
        ] + extra
        lines.append('| ' + ' | '.join(head) + ' |')
        lines.append('|' + '---|' * len(head))
        for c in rows:
            cells = [
                shape_name(tuple(c['shape'])),
                str(c['batch']),
                str(c['kernel_num'])
            ]
            if c['status'] != 'ok':
                cells += [c['status']] + [''] * (len(head) - 4)
                lines.append('| ' + ' | '.join(cells) + ' |')
                continue
            res, rat = c['results'], c['ratios']
            cells += [
                _fmt_ms(res.get(m, {}))
                for m in ('static', 'ours', 'reference')
            ]
            cells += [
                f'{rat[k]:.2f}' if k in rat else '-'
                for k in ('ours/static', 'reference/static', 'ours/reference')
            ]
            cells.append(str(c.get('auto_impl') or '-'))
            cells += [
                _fmt_mb(res.get(m, {}))
                for m in ('static', 'ours', 'reference')
            ]
            cells += [_fmt_ms(res[m]) if m in res else 'n/a' for m in extra]
            lines.append('| ' + ' | '.join(cells) + ' |')
    if extra:
        lines += [
            '', f"Forced impls ({', '.join(extra)}): ms; 'n/a' where "
            "the impl does not apply (it would fall back to 'loop')."
        ]
    errors = [(c, m, r['error']) for c in data['cases'] if c['status'] == 'ok'
              for m, r in c['results'].items() if 'error' in r]
    if errors:
        lines += ['', '## Errors', '']
        lines += [f'- {case_label(c)} {m}: {e}' for c, m, e in errors]
    if skipped:
        lines += [
            '', f'{len(skipped)} case(s) skipped; the reason is in the '
            'table and in the JSON.'
        ]
    lines.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def write_plot(path: str, data: Dict[str, Any]) -> Optional[str]:
    """Bars of train overhead vs nn.Conv2d per shape and B, one panel per
    n, log y, bars drawn from 1. Returns an error message instead of
    raising."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
        from matplotlib.ticker import FuncFormatter
    except ImportError as err:
        return f'no plot: {err}'
    cases = [c for c in data['cases'] if c['mode'] == 'train']
    ns = sorted({c['kernel_num'] for c in cases})
    if not any(c['status'] == 'ok' for c in cases):
        return 'no plot: no train case measured'
    shapes = [tuple(s) for s in data['meta']['shapes']]
    batches = data['meta']['batches']
    group = len(batches) + 1
    fig, axes = plt.subplots(
        len(ns),
        1,
        figsize=(max(8.0, 1.7 * len(shapes)), 3.8 * len(ns)),
        squeeze=False)
    width = 0.4
    bars = (('ours/static', 'tab:blue', 'ours (auto)'),
            ('reference/static', 'tab:orange', 'reference (folded)'))
    for ax, n in zip(axes[:, 0], ns):
        xs, labels = [], []
        for i, shape in enumerate(shapes):
            for j, b in enumerate(batches):
                x = i * group + j
                xs.append(x)
                labels.append(str(b))
                c = next((c for c in cases if tuple(c['shape']) == shape
                          and c['batch'] == b and c['kernel_num'] == n), None)
                if c is None:
                    continue
                if c['status'] != 'ok':
                    ax.text(
                        x,
                        1.0,
                        c['status'].split(':')[0],
                        rotation=90,
                        ha='center',
                        va='bottom',
                        fontsize=6,
                        color='grey')
                    continue
                for k, (key, color, _) in enumerate(bars):
                    r = c['ratios'].get(key)
                    if r is not None:
                        ax.bar(
                            x + (k - 0.5) * width,
                            r - 1.0,
                            width,
                            bottom=1.0,
                            color=color)
            ax.text(
                i * group + (len(batches) - 1) / 2,
                -0.14,
                shape_name(shape),
                transform=ax.get_xaxis_transform(),
                ha='center',
                va='top',
                fontsize=8)
        ax.axhline(1.0, color='k', lw=0.8)
        ax.set_yscale('log')
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f'{v:g}x'))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f'{v:g}x'))
        ax.tick_params(axis='y', which='minor', labelsize=6)
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_xlim(-1, len(shapes) * group - 1)
        ax.set_ylabel('time / nn.Conv2d (log)')
        ax.set_title(
            f'train fwd+bwd overhead vs nn.Conv2d, n={n} '
            '(tick labels: batch size)',
            fontsize=10)
        ax.legend(
            handles=[Patch(color=c, label=lb) for _, c, lb in bars],
            fontsize=8,
            loc='upper right')
    meta = data['meta']
    fig.suptitle(
        f"ODConv2d layer, {meta['device']} {meta['dtype']}: "
        f"{machine_line(meta['machine'])}",
        fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


# ------------------------------------------------------------------ main
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument(
        '--dtype',
        default='float32',
        choices=list(DTYPES),
        help='non-float32 runs under torch.autocast with that '
        'dtype (inputs in that dtype, modules in float32)')
    p.add_argument(
        '--quick',
        action='store_true',
        help=f'smoke run: shapes {QUICK_SHAPES}, B 1 2, '
        '3 repeats')
    p.add_argument(
        '--shapes',
        nargs='+',
        type=parse_shape,
        help='C_inxC_outxkxHxW, e.g. 64x64x3x56x56 (any shape; '
        'default: the built-in list)')
    p.add_argument('--batches', nargs='+', type=int)
    p.add_argument('--kernel-nums', nargs='+', type=int, default=KERNEL_NUMS)
    p.add_argument('--modes', nargs='+', choices=MODES, default=MODES)
    p.add_argument(
        '--impls',
        action='store_true',
        help='also time ours with every applicable forced impl')
    p.add_argument(
        '--repeats',
        type=int,
        help='timed repeats per case (default 5 CPU, 20 CUDA; '
        '3 with --quick)')
    p.add_argument('--min-repeats', type=int, default=3)
    p.add_argument(
        '--min-case-seconds',
        type=float,
        help='fast cases get more repeats until their timed rounds take '
        'this long, up to --max-repeats (default 2 CPU, 0.5 CUDA)')
    p.add_argument('--max-repeats', type=int, default=100)
    p.add_argument(
        '--warmup',
        type=int,
        help='untimed calls per method (default 1 CPU, 5 CUDA)')
    p.add_argument(
        '--threads',
        type=int,
        help='torch.set_num_threads (default: torch default; 1 '
        'with --quick)')
    p.add_argument(
        '--max-seconds-per-case',
        type=float,
        help='estimated seconds of one case (all methods, '
        'warm-up, repeats, memory pass) above which it is '
        'skipped; repeats shrink to fit (default 20 CPU, '
        '5 CUDA)')
    p.add_argument(
        '--max-gflop',
        type=float,
        help='skip cases whose static conv needs more GFLOP per '
        'timed call (forward, or forward + backward counted as '
        '3x): a deterministic cut of the biggest cases '
        '(default 100 on CPU, 0 = none on CUDA)')
    p.add_argument(
        '--max-memory-gb',
        type=float,
        help='skip cases whose estimated peak exceeds it '
        '(default: half the available RAM on CPU, 80%% of the '
        'GPU memory on CUDA)')
    p.add_argument(
        '--time-limit',
        type=float,
        default=0,
        help='total seconds; once exceeded the remaining cases '
        'are recorded as skipped (0: no limit)')
    p.add_argument(
        '--tolerance',
        type=float,
        default=0.05,
        help='timing noise allowed by the ours <= reference '
        'target')
    p.add_argument(
        '--no-memory', action='store_true', help='skip the peak-memory pass')
    p.add_argument(
        '--no-runtime-setup',
        action='store_true',
        help="measure without our tools' runtime setup (denormal "
        'flushing, glibc keeping freed blocks up to 32 MiB; see '
        'mmdet_odconv.utils.setup_runtime)')
    p.add_argument(
        '--no-self-check',
        action='store_true',
        help='skip the reference self-check at start')
    p.add_argument(
        '--from-json',
        metavar='JSON',
        help='measure nothing: rewrite the .md and .png (and '
        'the summary) of an earlier run from its .json, next to '
        'it unless --out is given')
    p.add_argument(
        '--out',
        help='output path without extension (default '
        'benchmarks/results/{cpu,gpu}_layer[_<dtype>][_quick])')
    args = p.parse_args(argv)
    cuda = args.device == 'cuda'
    if args.quick:
        args.shapes = args.shapes or QUICK_SHAPES
        args.batches = args.batches or [1, 2]
        args.repeats = args.repeats or 3
        args.warmup = 1 if args.warmup is None else args.warmup
    args.shapes = args.shapes or SHAPES
    args.batches = sorted(args.batches or BATCHES)
    args.repeats = args.repeats or (20 if cuda else 5)
    args.min_repeats = max(1, min(args.min_repeats, args.repeats))
    if args.warmup is None:
        args.warmup = 5 if cuda else 1
    if args.min_case_seconds is None:
        args.min_case_seconds = 0.0 if args.quick else (0.5 if cuda else 2.0)
    if args.max_seconds_per_case is None:
        args.max_seconds_per_case = 5.0 if cuda else 20.0
    if args.max_gflop is None:
        args.max_gflop = 0.0 if cuda else 100.0
    if args.out is None and args.from_json:
        args.out = os.path.splitext(args.from_json)[0]
    if args.out is None:
        name = ('gpu' if cuda else 'cpu') + '_layer'
        if args.dtype != 'float32':
            name += '_' + {'bfloat16': 'bf16', 'float16': 'fp16'}[args.dtype]
        if args.quick:
            name += '_quick'
        args.out = os.path.join(HERE, 'results', name)
    return args


def available_memory_gb(device: torch.device) -> float:
    if device.type == 'cuda':
        return torch.cuda.get_device_properties(device).total_memory / 2**30
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 8.0


def calibrate(runner: Runner) -> float:
    """Static conv throughput (FLOP/s) for the first time estimates."""
    shape = (256, 256, 3, 28, 28)
    conv = nn.Conv2d(256, 256, 3, padding=1, bias=False).to(runner.device)
    x = torch.randn(1, 256, 28, 28, device=runner.device, dtype=runner.dtype)
    call, reset = runner.make_call(conv, x, 'train')
    runner.time_call(call, reset)
    t = min(runner.time_call(call, reset) for _ in range(3))
    return conv_flops(shape, 1, 'train') / max(t, 1e-9)


def render(out: str, data: Dict[str, Any]) -> None:
    """Write <out>.md and <out>.png and print the summary."""
    write_markdown(out + '.md', data)
    note = write_plot(out + '.png', data)
    print('\n'.join(['', 'Summary'] + summary_lines(data['summary'])))
    for t in data['summary']['targets']:
        print(f"  [{t['status']}] {t['target']}: {t['detail']}")
    print(f'wrote {out}.md, .json' + (f' ({note})' if note else ', .png') +
          f" ({data['meta']['wall_s']:.0f} s of measuring)")


def skip_reason(args: argparse.Namespace, shape: Shape, batch: int, n: int,
                mode: str, est_round: float, rounds: int, mem_limit: float,
                act_bytes: int, elapsed: float) -> str:
    """'pending' if the case should run, else 'skipped: <reason>'."""
    gflop = conv_flops(shape, batch, mode) / 1e9
    mem = estimate_bytes(shape, batch, n, mode, act_bytes) / 2**30
    if args.time_limit and elapsed > args.time_limit:
        return f'skipped: --time-limit {args.time_limit:.0f} s'
    if args.max_gflop and gflop > args.max_gflop:
        return f'skipped: {gflop:.0f} GFLOP > --max-gflop {args.max_gflop:g}'
    if mem > mem_limit:
        return f'skipped: est. {mem:.1f} GB > {mem_limit:.1f} GB'
    if est_round * rounds > args.max_seconds_per_case:
        return (f'skipped: est. {est_round * rounds:.0f} s > '
                f'--max-seconds-per-case {args.max_seconds_per_case:g}')
    return 'pending'


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            data = json.load(f)
        data['summary'] = summarise(data['cases'], args.tolerance)
        render(args.out, data)
        return 0
    if args.device == 'cuda' and not torch.cuda.is_available():
        print('CUDA is not available', file=sys.stderr)
        return 2
    if args.quick and not args.threads:
        args.threads = 1  # smoke run: robust on a shared, busy machine
    if args.threads:
        torch.set_num_threads(args.threads)
    runtime = apply_runtime_setup(not args.no_runtime_setup)
    device = torch.device(args.device)
    dtype = DTYPES[args.dtype]
    start = time.perf_counter()
    if not args.no_self_check:
        if not self_check(verbose=False):
            print('reference self-check failed', file=sys.stderr)
            return 1
        print('reference self-check: FoldedODConv2d == ODConv2d (eval, '
              'all impls, atol 1e-4)')
    runner = Runner(device, dtype)
    flops_per_s = calibrate(runner)
    mem_limit = args.max_memory_gb or (available_memory_gb(device) *
                                       (0.8 if device.type == 'cuda' else 0.5))
    act_bytes = torch.tensor([], dtype=dtype).element_size()
    methods = list(BASE_METHODS)
    if args.impls:
        methods += sorted(
            {
                f'ours[{i}]'
                for s in args.shapes
                for b in args.batches
                for n in args.kernel_nums
                for i in applicable_impls(s, b, n)
            },
            key=lambda m: IMPLS.index(m[5:-1]))
    info = machine_info(device)
    info['runtime'] = runtime
    print(f'{machine_line(info)}; static conv ~{flops_per_s / 1e9:.0f} '
          f'GFLOP/s; memory limit {mem_limit:.1f} GB')
    warn_if_busy(info)
    cases: List[Dict[str, Any]] = []
    for shape in args.shapes:
        for n in args.kernel_nums:
            for mode in args.modes:
                for b in args.batches:
                    cases.append({
                        'shape': list(shape),
                        'batch': b,
                        'kernel_num': n,
                        'mode': mode,
                        'status': 'pending'
                    })
    rounds = args.warmup + args.min_repeats + (0 if args.no_memory else 1)
    # Per (shape, n, mode): (batch, seconds of one round) last measured or
    # estimated, to extrapolate linearly in B.
    last: Dict[Tuple[Any, ...], Tuple[int, float]] = {}
    data: Dict[str, Any] = {}
    for i, case in enumerate(cases):
        shape = tuple(case['shape'])
        b, n, mode = case['batch'], case['kernel_num'], case['mode']
        case_methods = [
            m for m in methods if not m.startswith('ours[')
            or m[5:-1] in applicable_impls(shape, b, n)
        ]
        key = (shape, n, mode)
        if key in last:
            est = last[key][1] * b / last[key][0]
        else:  # ~1.5x a static conv per method (the reference is slower)
            est = (1.5 * len(case_methods) * conv_flops(shape, b, mode) /
                   flops_per_s)
        case['status'] = skip_reason(args, shape, b, n, mode, est, rounds,
                                     mem_limit, act_bytes,
                                     time.perf_counter() - start)
        if case['status'] != 'pending':
            last[key] = (b, est)
            print(
                f'[{i + 1}/{len(cases)}] {case_label(case)}: '
                f"{case['status']}",
                flush=True)
            continue
        t0 = time.perf_counter()
        try:
            measured = run_case(runner, case, case_methods, args, est)
        except Exception as err:  # noqa: BLE001  (e.g. OOM building it)
            case['status'] = f'error: {_error_text(err)}'
            last[key] = (b, est)
            _free(device)
            print(
                f'[{i + 1}/{len(cases)}] {case_label(case)}: '
                f"{case['status']}",
                flush=True)
            continue
        last[key] = (b, measured)
        res, rat = case['results'], case['ratios']
        msg = ', '.join(f'{m} {_fmt_ms(res[m])}' for m in case_methods)
        msg += ' ms; ' + ', '.join(f'{k} {rat[k]:.2f}'
                                   for k in ('ours/static', 'reference/static',
                                             'ours/reference') if k in rat)
        print(
            f'[{i + 1}/{len(cases)}] {case_label(case)} '
            f"(auto={case['auto_impl']}, {case['repeats']} reps, "
            f'{time.perf_counter() - t0:.1f} s): {msg}',
            flush=True)
        data = _collect(args, info, methods, cases, start)
        _write_json(args.out + '.json', data)  # partial results survive
    data = _collect(args, info, methods, cases, start)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    _write_json(args.out + '.json', data)
    render(args.out, data)
    return 0


def _collect(args: argparse.Namespace, info: Dict[str, Any],
             methods: List[str], cases: List[Dict[str, Any]],
             start: float) -> Dict[str, Any]:  # yapf: disable
    """The JSON document: meta, summary and every case."""
    try:
        info['loadavg_end'] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    meta = dict(
        command=exact_command(),
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        wall_s=time.perf_counter() - start,
        device=args.device,
        dtype=args.dtype,
        machine=info,
        memory_proxy=(CUDA_MEMORY_PROXY
                      if args.device == 'cuda' else CPU_MEMORY_PROXY),
        methods=methods,
        shapes=[list(s) for s in args.shapes],
        batches=args.batches,
        kernel_nums=args.kernel_nums,
        modes=args.modes,
        repeats=args.repeats,
        min_repeats=args.min_repeats,
        max_repeats=args.max_repeats,
        min_case_seconds=args.min_case_seconds,
        warmup=args.warmup,
        max_seconds_per_case=args.max_seconds_per_case,
        max_gflop=args.max_gflop,
        quick=args.quick,
        padding='k // 2',
        stride=1)
    return dict(
        meta=meta, summary=summarise(cases, args.tolerance), cases=cases)


def _write_json(path: str, data: Dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


if __name__ == '__main__':
    sys.exit(main())
