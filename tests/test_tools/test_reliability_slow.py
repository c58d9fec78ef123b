"""Slow end-to-end guarantees: resume after SIGKILL is exact, DDP ranks stay
identical, --amp trains finitely, truncated checkpoints never load."""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.test_tools.test_train_test_e2e import CONFIG, tiny_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
pytestmark = pytest.mark.slow


def _config_with_hooks(tmp_path, hooks: str) -> str:
    """The demo config with ``custom_hooks`` replaced (DictAction cannot
    parse a list of dicts on the command line)."""
    path = tmp_path / f'cfg_{abs(hash(hooks))}.py'
    path.write_text(f"_base_ = '{osp.join(ROOT, CONFIG)}'\n"
                    f'custom_hooks = {hooks}\n')
    return str(path)


def _train_cmd(work, data, iters, *extra):
    cfg = _config_with_hooks(
        work.parent, "[dict(type='RNGStateHook'), dict(type="
        "'ODConvTemperatureHook', start=5, end=1, duration=4, "
        'by_epoch=False)]')
    opts = tiny_options(data, iters, extra=(
        'default_hooks.checkpoint.interval=2',
        'randomness.deterministic=True',
    ))
    return [sys.executable, 'tools/train.py', cfg, '--work-dir',
            str(work), *extra, '--cfg-options', *opts]


def _run(cmd, **kw):
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       timeout=600, **kw)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def test_resume_after_sigkill_reaches_identical_weights(tiny_data, tmp_path):
    iters = 8
    ref_dir = tmp_path / 'uninterrupted'
    _run(_train_cmd(ref_dir, tiny_data, iters))
    ref = torch.load(ref_dir / f'iter_{iters}.pth', map_location='cpu')

    work = tmp_path / 'killed'
    proc = subprocess.Popen(_train_cmd(work, tiny_data, iters), cwd=ROOT,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (work / 'last_checkpoint').exists():
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, 'run ended before the kill'
    saved = sorted(glob.glob(str(work / 'iter_*.pth')))
    assert saved and not (work / f'iter_{iters}.pth').exists()

    _run(_train_cmd(work, tiny_data, iters, '--resume'))
    out = torch.load(work / f'iter_{iters}.pth', map_location='cpu')
    assert out['meta']['iter'] == ref['meta']['iter'] == iters
    for k, v in ref['state_dict'].items():
        assert torch.equal(v, out['state_dict'][k]), k
    ref_opt, out_opt = ref['optimizer']['state'], out['optimizer']['state']
    assert ref_opt.keys() == out_opt.keys() and ref_opt
    for k in ref_opt:  # AdamW moments and step counts
        for name, v in ref_opt[k].items():
            assert torch.equal(torch.as_tensor(v),
                               torch.as_tensor(out_opt[k][name])), name
    assert ref['param_schedulers'] == out['param_schedulers']


def test_truncated_checkpoint_never_loads(tiny_data, tmp_path):
    """MMEngine writes last_checkpoint only after the file is complete; a
    file cut short by a kill fails to load instead of loading partly."""
    m = torch.nn.Linear(64, 64)
    path = tmp_path / 'full.pth'
    torch.save({'state_dict': m.state_dict(), 'meta': {'iter': 2}}, path)
    data = path.read_bytes()
    for frac in (0.1, 0.5, 0.9, 0.999):
        cut = tmp_path / f'cut{frac}.pth'
        cut.write_bytes(data[:int(len(data) * frac)])
        with pytest.raises(Exception):
            torch.load(cut, map_location='cpu')


def test_dist_train_two_cpu_processes_stay_in_sync(tiny_data, tmp_path):
    work = tmp_path / 'ddp'
    cfg = _config_with_hooks(
        tmp_path, "[dict(type='DDPConsistencyHook', interval=1)]")
    opts = tiny_options(tiny_data, 4, extra=('log_level=DEBUG', ))
    env = dict(os.environ, PYTHON=sys.executable, PORT='29611',
               OMP_NUM_THREADS='1')
    r = subprocess.run(
        ['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir',
         str(work), '--cfg-options', *opts],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-4000:]
    assert 'diverged' not in log
    assert log.count('DDPConsistencyHook: ranks agree') >= 4
    assert (work / 'iter_4.pth').exists()


def test_amp_bf16_on_cpu_trains_finite(tiny_data, tmp_path):
    work = tmp_path / 'amp'
    r = _run([sys.executable, 'tools/train.py', CONFIG, '--amp',
              '--work-dir', str(work), '--cfg-options',
              *tiny_options(tiny_data, 4)])
    assert 'nan' not in (r.stdout + r.stderr).split('loss:')[-1][:40]
    ck = torch.load(work / 'iter_4.pth', map_location='cpu')
    for k, v in ck['state_dict'].items():
        if v.is_floating_point():
            assert torch.isfinite(v).all(), k


def test_cpu_ddp_trains_rtmdet_whose_bns_become_syncbn(tiny_data, tmp_path):
    """RTMDet turns its BNs into SyncBN in a world of two (use_syncbn=True),
    which torch's DDP refuses on CPU modules; our CPU DDP wrapper turns
    them back into BN, and says so."""
    work = tmp_path / 'rtmdet'
    opts = [o for o in tiny_options(tiny_data, 2)
            if not o.startswith('model.')]
    env = dict(os.environ, PYTHON=sys.executable, PORT='29613',
               OMP_NUM_THREADS='1')
    r = subprocess.run(
        ['bash', 'tools/dist_train.sh', 'configs/demo/rtmdet_tiny-odconv4x_'
         'demo.py', '2', '--work-dir', str(work), '--cfg-options', *opts],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-4000:]
    assert 'SyncBatchNorm layers became BatchNorm' in log
    assert (work / 'iter_2.pth').exists()
