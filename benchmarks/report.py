"""The benchmarks' markdown tables, tracked targets and plot."""
import math
import textwrap
from typing import Any, Dict, List, Sequence

from harness import shape_name

THREE = ('static', 'ours', 'reference')
RATIOS = (('ours/static', 'ours', 'static'),
          ('ref/static', 'reference', 'static'),
          ('ours/ref', 'ours', 'reference'), ('conv/static', 'conv', 'static'),
          ('floor/static', 'floor', 'static'),
          ('floor/ref', 'floor', 'reference'))
MEMORY_NOTE = ('Peak memory (CUDA only): torch.cuda.max_memory_allocated '
               'during one call minus memory_allocated before it.')
FLOOR_NOTE = ('floor.py: attention, kernels (per-sample), conv (with those '
              'kernels), scale (when not folded) timed alone; floor = their '
              'sum; a target is out of reach where the floor exceeds it.')
Case = Dict[str, Any]


def table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> List[str]:
    return (['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)] +
            ['| ' + ' | '.join(map(str, r)) + ' |' for r in rows])


def ms(res: Dict[str, Any]) -> str:
    """A median in ms, or the start of the error."""
    t = res.get('ms')
    if t is None:
        return res.get('error', '-')[:60].replace('|', '/')
    return f'{t:.3g}' if t < 100 else f'{t:.0f}'


def mb(res: Dict[str, Any]) -> str:
    return f"{res['peak_bytes'] / 2**20:.1f}" if 'peak_bytes' in res else '-'


def geomean(values: Sequence[float]) -> float:
    return math.exp(sum(map(math.log, values)) / len(values))


def label(c: Case) -> str:
    return (f"{shape_name(c['shape'])} B={c['batch']} n={c['kernel_num']} "
            f"{c['mode']}")


def header(title: str, meta: Dict[str, Any], notes: List[str]) -> List[str]:
    if meta['rounds']:
        notes = [f"Timing: torch.utils.benchmark, a warm-up call, then "
                 f"{meta['rounds']} interleaved rounds of blocked_autorange "
                 f"({meta['min_run_time']} s) per method, merged; median "
                 'per call.'] + notes
    if meta['quick']:
        notes = notes + ['`--quick`: a smoke run, not a measurement.']
    return [
        f"# {title} ({meta['device']}, {meta['dtype']})", '',
        f"- Machine: {meta['machine']}", f"- Command: `{meta['command']}`",
        f"- Date: {meta['date']}; {meta['wall_s']:.0f} s; load average (1, "
        f"5, 15 min) at start {meta['loadavg_start']}, at end "
        f"{meta['loadavg_end']} (other processes make CPU timings noisy)"
    ] + [f'- {n}' for n in notes] + ['']


# ----------------------------------------------------------------- layer
def ratios(case: Case) -> Dict[str, float]:
    """The RATIOS and peak ours/ref, where both sides were measured."""
    res = case.get('results', {})
    t = {m: r['ms'] for m, r in res.items() if 'ms' in r}
    out = {k: t[a] / t[b] for k, a, b in RATIOS if a in t and b in t}
    peak = [res.get(m, {}).get('peak_bytes') for m in THREE[1:]]
    if None not in peak and peak[1]:
        out['peak ours/ref'] = peak[0] / peak[1]
    return out


def layer_summary(cases: List[Case], tol: float = 0.05):
    """Summary lines, and the targets as (target, PASS/FAIL/n/a, detail);
    ``tol``: the timing noise allowed where ours should match the reference.
    """
    ok = [(c, ratios(c)) for c in cases if 'results' in c]

    def pick(key: str, **want) -> list:
        return [(r[key], c) for c, r in ok if key in r and all(
            c[k] == v for k, v in want.items())]

    def check(name: str, pairs: list, limit: float) -> tuple:
        if not pairs:
            return name, 'n/a', 'no data'
        v, c = max(pairs, key=lambda p: p[0])
        bad = [f'{label(c)} ({v:.2f})' for v, c in pairs if v > limit]
        return name, 'FAIL' if bad else 'PASS', (
            f'{len(pairs)} cases, worst {v:.2f} at {label(c)}' +
            (f"; {len(bad)} above: {', '.join(bad[:6])}" if bad else ''))

    three_x = [(v, c) for v, c in pick('ours/ref')
               if ratios(c).get('ref/static', 0) >= 3]
    targets = [check(f'ours <= reference at every case (tolerance {tol:.0%})',
                     pick('ours/ref'), 1 + tol),
               check('ours >= 2x faster than reference where reference >= 3x'
                     ' static', three_x, 0.5)]
    lines = []
    for n in sorted({c['kernel_num'] for c, _ in ok}):
        gm = {(mode, key): geomean([v for v, _ in got])
              for mode in ('train', 'eval')
              for key in ('ours/static', 'ref/static')
              for got in [pick(key, kernel_num=n, mode=mode)] if got}
        lines.append(f'geomean vs nn.Conv2d, n={n}: ' + ', '.join(
            f'{mode} {key} {v:.2f}x' for (mode, key), v in gm.items()))
        limit, v = {1: 1.25, 4: 1.6}.get(n), gm.get(('train', 'ours/static'))
        if limit and v:
            targets.append((f'geomean ours/static, train, n={n} <= {limit}x',
                            'PASS' if v <= limit else 'FAIL', f'{v:.2f}x'))
    b1 = [(v, c) for v, c in pick('ours/static', batch=1, mode='eval')
          if c['shape'][2] == 3]
    targets += [
        check('B=1 eval ours/static <= 1.15x at every 3x3 shape', b1, 1.15),
        check('train peak memory ours <= reference at every case',
              pick('peak ours/ref', mode='train'), 1.0)]
    return lines, targets


def layer_row(c: Case, extra: List[str], keys: List[str]) -> list:
    row, res, r = [shape_name(c['shape']), c['batch'], c['kernel_num']
                   ], c.get('results'), ratios(c)
    if not res:
        return row + [c['status']]
    return (row + [ms(res.get(m, {})) for m in THREE] +
            [f'{r[k]:.2f}' if k in r else '-' for k in keys] +
            [c['auto_impl'] + ' (chunked)' * c.get('chunked', False)] +
            [mb(res.get(m, {})) for m in THREE] +
            [ms(res[m]) if m in res else 'n/a' for m in extra])


def layer_markdown(data: Dict[str, Any]) -> List[str]:
    meta, cases = data['meta'], data['cases']
    extra = [m for m in dict.fromkeys(
        m for c in cases for m in c.get('results', {})) if m not in THREE]
    keys = [k for k, _, _ in RATIOS if any(k in ratios(c) for c in cases)]
    summary, targets = layer_summary(cases)
    lines = header('ODConv2d layer benchmark', meta, [
        'eval = forward under no_grad; train = forward + backward (input '
        'requires grad). ours = ODConv2d(auto), ref = FoldedODConv2d '
        '(official formulation), static = nn.Conv2d; ratios below 1: ours '
        'faster; ours[impl]: formulations forced (n/a: the layer refuses).',
        MEMORY_NOTE] + [FLOOR_NOTE] * ('floor' in extra)) + [
            '## Summary', ''] + [
            f'- {s}' for s in summary] + [''] + table(
                ('target', 'status', 'detail'), targets)
    head = ('shape', 'B', 'n', *THREE, *keys, 'auto impl', 'MB static',
            'MB ours', 'MB ref', *extra)
    for mode, what in (('train', 'forward + backward'), ('eval', 'forward')):
        rows = [layer_row(c, extra, keys) for c in cases
                if c['mode'] == mode]
        if rows:
            lines += ['', f'## {mode} ({what}), ms', ''] + table(head, rows)
    return lines


def layer_plot(path: str, data: Dict[str, Any]) -> str:
    """Train time / nn.Conv2d of ours (blue) and the reference (orange)
    per case, a panel per n, log axis; '' or why there is none."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError as err:
        return f'no plot: {err}'
    cases = [c for c in data['cases'] if c['mode'] == 'train']
    if not cases:
        return 'no plot: no train cases'
    ns = sorted({c['kernel_num'] for c in cases})
    fig, axes = plt.subplots(len(ns), 1, squeeze=False, figsize=(
        max(8, .35 * len(cases) / len(ns)), 4.5 * len(ns)))
    for ax, n in zip(axes[:, 0], ns):
        got = [c for c in cases if c['kernel_num'] == n]
        for dx, key, color in ((-.2, 'ours/static', 'tab:blue'),
                               (.2, 'ref/static', 'tab:orange')):
            ax.bar([i + dx for i in range(len(got))],
                   [ratios(c).get(key, 1) - 1 for c in got], .4, 1,
                   color=color)
        ax.axhline(1, color='k', lw=.8)
        ax.set_yscale('log')
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f'{v:g}x'))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f'{v:g}x'))
        ax.set_xticks(range(len(got)), [
            f"{shape_name(c['shape'])} B={c['batch']}" for c in got],
            rotation=90, fontsize=7)
        ax.set_ylabel('time / nn.Conv2d (log)')
        ax.set_title(f'train fwd+bwd vs nn.Conv2d, n={n}: ours (blue), '
                     'reference (orange)', fontsize=10)
    fig.suptitle(textwrap.fill(data['meta']['machine'], 140), fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return ''


# ------------------------------------------------------- model, amp, floor
def model_markdown(data: Dict[str, Any]) -> List[str]:
    meta, res = data['meta'], data['results']
    rows = []
    for m, params in data['params'].items():
        row = [m, f'{params / 1e6:.1f}']
        for task in ('infer', 'train'):
            r, b = (res.get(task, {}).get(key, {}) for key in (m, 'baseline'))
            row += [ms(r), f"{r['ms'] / b['ms']:.2f}"
                    if 'ms' in r and 'ms' in b else '-']
        rows.append(row + [mb(res.get(t, {}).get(m, {}))
                           for t in ('infer', 'train')])
    return header('Faster R-CNN R50-FPN benchmark', meta, [
        'Images: {}x{} mmdet.testing.demo_mm_inputs (5 boxes each), '
        'preprocessed once, untimed.'.format(*meta['shape']),
        'infer: model.predict at batch 1, eval, no_grad. train: model.loss '
        '+ backward at batch 2, no optimiser step.',
        MEMORY_NOTE, 'Configs (no pretrained weights loaded): ' +
        ', '.join(f'{m}: `{c}`' for m, c in meta['configs'].items())
    ]) + table(('model', 'params (M)', 'infer B=1 ms', 'x baseline',
                'train B=2 ms', 'x baseline', 'infer peak MB',
                'train peak MB'), rows)


def amp_markdown(data: Dict[str, Any]) -> List[str]:
    return header('AmpOptimWrapper training steps', data['meta'], [
        'Faster R-CNN, batch 2, SGD; loss and dynamic loss scale per step; '
        'stable = the scale did not change in the second half.'
    ]) + table(('model', 'finite', 'scale stable', 'loss', 'scale'), [
        [m, r['finite'], r['stable'], ' '.join(f'{v:.3g}' for v in r['loss']),
         ' '.join(f'{v:g}' for v in r['scale'])]
        for m, r in data['amp'].items()])
