"""How tools/setup_env.sh builds mmcv's ops: CPU, CUDA, or stop first.

torch's answers, nvcc and CUDA_HOME are faked; nothing is built or installed.
"""
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest

from tools import setup_decision as sd

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SETUP = osp.join(ROOT, 'tools', 'setup_env.sh')
DECISION = osp.join(ROOT, 'tools', 'setup_decision.py')
# No real toolkit is CUDA 99, so a toolkit this machine may have (several
# CPU machines carry /usr/local/cuda) never matches a faked torch.
FAKE_CUDA = '99.0'
CHOICES = ('CUDA_HOME', 'mim install mmcv==2.1.0', 'MMCV_CPU_ONLY=1',
           'Nothing was compiled')


def _executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _fake_toolkit(root, version):
    """A folder with a bin/nvcc that reports ``version``."""
    _executable(
        root / 'bin' / 'nvcc', '#!/bin/sh\necho "Cuda compilation tools, '
        f'release {version}, V{version}.105"\n')
    return str(root)


def _fake_torch(site, cuda_available, cuda='12.1', version='2.13.0'):
    """A ``torch`` package that answers only what setup_decision asks."""
    (site / 'torch').mkdir(parents=True)
    (site / 'torch' / '__init__.py').write_text(
        f'__version__ = {version!r}\n\n\n'
        'class version:\n'
        f'    cuda = {cuda!r}\n\n\n'
        'class cuda:\n'
        f'    is_available = staticmethod(lambda: {cuda_available})\n'
        '    device_count = staticmethod(lambda: 1)\n'
        '    get_device_capability = staticmethod(lambda i: (9, 0))\n')
    return str(site)


def _facts(available, cuda='12.1'):
    return sd.TorchFacts('2.1.2+cu121', available, cuda, ('9.0', ))


# The decision itself ----------------------------------------------------


def test_no_cuda_builds_cpu_ops_even_with_a_toolkit(tmp_path):
    toolkit = sd.Toolkit(_fake_toolkit(tmp_path, '12.1'), '12.1', 'CUDA_HOME')
    decision = sd.decide(_facts(False), toolkit)
    assert decision.ops == 'cpu' and decision.cuda_home is None
    assert decision.key == 'torch2.1.2+cu121-cpu'


def test_cuda_with_matching_toolkit_builds_cuda_ops_with_it():
    toolkit = sd.Toolkit('/opt/cuda-12.1', '12.1', 'CUDA_HOME')
    decision = sd.decide(_facts(True), toolkit)
    assert (decision.ops, decision.cuda_home) == ('cuda', '/opt/cuda-12.1')
    assert decision.key == 'torch2.1.2+cu121-cuda12.1-sm9.0'
    assert decision.note == ''


def test_cuda_with_other_minor_toolkit_builds_and_says_so():
    toolkit = sd.Toolkit('/opt/cuda-12.4', '12.4', 'nvcc on PATH')
    decision = sd.decide(_facts(True), toolkit)
    assert decision.ops == 'cuda'
    assert '12.4' in decision.note and '12.1' in decision.note


@pytest.mark.parametrize('toolkit,why', [
    (None, 'No toolkit was found'),
    (sd.Toolkit('/opt/cuda-11.8', '11.8', 'CUDA_HOME'), 'is CUDA 11.8'),
    (sd.Toolkit('/opt/empty', None, 'CUDA_HOME'), 'no working bin/nvcc'),
])
def test_cuda_without_matching_toolkit_stops_naming_the_choices(toolkit, why):
    with pytest.raises(sd.SetupStop) as stop:
        sd.decide(_facts(True), toolkit)
    message = str(stop.value)
    assert why in message and 'CUDA 12.1' in message
    for choice in CHOICES:
        assert choice in message


def test_cpu_only_wins_over_a_gpu_and_warns_about_detectors():
    decision = sd.decide(_facts(True), None, cpu_only=True)
    assert decision.ops == 'cpu'
    assert 'RoIAlign' in decision.note


def test_rocm_build_stops():
    with pytest.raises(sd.SetupStop, match='MMCV_CPU_ONLY=1'):
        sd.decide(_facts(True, cuda=None), None)


# Finding the toolkit as PyTorch's extension builder does ------------------


def test_cuda_home_wins_over_nvcc_on_path(tmp_path):
    home = _fake_toolkit(tmp_path / 'home', '12.1')
    on_path = _fake_toolkit(tmp_path / 'other', '11.8')
    env = dict(CUDA_HOME=home, PATH=osp.join(on_path, 'bin'))
    found = sd.find_toolkit(env, default_home=str(tmp_path / 'none'))
    assert (found.home, found.version, found.found_by) == (home, '12.1',
                                                           'CUDA_HOME')


def test_nvcc_on_path_gives_the_folder_above_it(tmp_path):
    home = _fake_toolkit(tmp_path / 'cuda', '12.4')
    env = dict(PATH=os.pathsep.join(['/nonexistent', osp.join(home, 'bin')]))
    found = sd.find_toolkit(env, default_home=str(tmp_path / 'none'))
    assert (found.home, found.version) == (home, '12.4')


def test_default_home_then_nothing(tmp_path):
    home = _fake_toolkit(tmp_path / 'cuda', '12.1')
    assert sd.find_toolkit({}, default_home=home).version == '12.1'
    assert sd.find_toolkit({}, default_home=str(tmp_path / 'none')) is None


def test_cuda_home_without_nvcc_has_no_version(tmp_path):
    found = sd.find_toolkit(dict(CUDA_HOME=str(tmp_path)))
    assert found.home == str(tmp_path) and found.version is None


# The script on faked torch and toolkits -----------------------------------


def _decide_cli(site, **env):
    """Run setup_decision.py with only the fake torch importable."""
    full = dict(PATH='/usr/bin:/bin', PYTHONPATH=site, **env)
    return subprocess.run([sys.executable, '-S', DECISION],
                          capture_output=True,
                          text=True,
                          env=full,
                          timeout=60)


def test_cli_three_cases(tmp_path):
    gpu = _fake_torch(tmp_path / 'gpu', True, cuda=FAKE_CUDA)
    home = _fake_toolkit(tmp_path / 'cuda', FAKE_CUDA)
    built = _decide_cli(gpu, CUDA_HOME=home)
    assert built.returncode == 0, built.stderr
    assert built.stdout.split() == [
        'cuda', f'torch2.13.0-cuda{FAKE_CUDA}-sm9.0-'
        f'py{sys.version_info[0]}{sys.version_info[1]}', home
    ]
    stopped = _decide_cli(gpu)
    assert stopped.returncode == 1 and stopped.stdout == ''
    for choice in CHOICES:
        assert choice in stopped.stderr
    cpu = _decide_cli(_fake_torch(tmp_path / 'cpu', False))
    assert cpu.returncode == 0 and cpu.stdout.split()[0] == 'cpu'
    explicit = _decide_cli(gpu, MMCV_CPU_ONLY='1')
    assert explicit.returncode == 0 and explicit.stdout.split()[0] == 'cpu'


# setup_env.sh itself, with a fake environment whose pip only logs ---------

FAKE_PYTHON = """#!/bin/bash
if [[ "$1" == -m && "$2" == pip ]]; then
  shift 2
  echo "pip $* | FORCE_CUDA=${FORCE_CUDA-unset}" \\
    "CUDA_HOME=${CUDA_HOME-unset}" \\
    "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-unset}" >> "$FAKE_LOG"
  if [[ "$2" == wheel ]]; then  # the mmcv build: leave a partial one, fail
    while [[ $# -gt 0 && "$1" != -w ]]; do shift; done
    mkdir -p "$2" && touch "$2/partial.o"
    exit 97
  fi
  exit 0
fi
PYTHONPATH="$FAKE_SITE" exec "$REAL_PYTHON" -S "$@"
"""


def _run_setup(tmp_path, site, **env):
    venv = tmp_path / 'venv'
    _executable(venv / 'bin' / 'python', FAKE_PYTHON)
    log = tmp_path / 'pip.log'
    full = dict(
        PATH='/usr/bin:/bin',
        HOME=str(tmp_path),
        VENV=str(venv),
        PYTHON=sys.executable,
        MMCV_WHEEL_CACHE=str(tmp_path / 'wheels'),
        FAKE_LOG=str(log),
        FAKE_SITE=site,
        REAL_PYTHON=sys.executable)
    full.update(env)
    run = subprocess.run(['bash', SETUP],
                         capture_output=True,
                         text=True,
                         env=full,
                         timeout=120)
    calls = log.read_text().splitlines() if log.exists() else []
    assert not (venv / '.setup-done').exists()
    return run, calls


def _builds(calls):
    return [c for c in calls if c.split()[2] == 'wheel']


def test_setup_stops_before_compiling_without_a_matching_toolkit(tmp_path):
    site = _fake_torch(tmp_path / 'site', True, cuda=FAKE_CUDA)
    run, calls = _run_setup(tmp_path, site)
    assert run.returncode == 1
    for choice in CHOICES:
        assert choice in run.stderr
    assert calls and not _builds(calls)  # torch was installed, not mmcv
    assert not any(' -e ' in c for c in calls)


def test_setup_builds_cuda_ops_with_the_matching_toolkit(tmp_path):
    site = _fake_torch(tmp_path / 'site', True, cuda=FAKE_CUDA)
    home = _fake_toolkit(tmp_path / 'cuda', FAKE_CUDA)
    path = os.pathsep.join([osp.join(home, 'bin'), '/usr/bin', '/bin'])
    run, calls = _run_setup(tmp_path, site, PATH=path)
    assert run.returncode != 0  # the fake build fails on purpose
    (build, ) = _builds(calls)
    assert 'mmcv==2.1.0' in build and '--no-cache-dir' in build
    assert f'FORCE_CUDA=1 CUDA_HOME={home} ' in build
    assert not list((tmp_path / 'wheels').glob('*'))  # nothing half-built


def test_setup_builds_cpu_ops_with_the_gpu_hidden(tmp_path):
    for name, available in (('cpu', False), ('gpu', True)):
        site = _fake_torch(tmp_path / name / 'site', available, cuda=FAKE_CUDA)
        env = dict(MMCV_CPU_ONLY='1') if available else {}
        run, calls = _run_setup(tmp_path / name, site, **env)
        assert run.returncode != 0
        (build, ) = _builds(calls)
        assert 'FORCE_CUDA=0' in build
        assert build.endswith('CUDA_VISIBLE_DEVICES=')


def test_setup_reuses_the_wheel_of_the_same_torch_and_ops(tmp_path):
    site = _fake_torch(tmp_path / 'site', False)
    py = f'py{sys.version_info[0]}{sys.version_info[1]}'
    ours = tmp_path / 'wheels' / f'mmcv-2.1.0-torch2.13.0-cpu-{py}'
    other = tmp_path / 'wheels' / f'mmcv-2.1.0-torch2.1.2-cpu-{py}'
    for folder in (ours, other):
        folder.mkdir(parents=True)
        (folder / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl').write_text('')
    run, calls = _run_setup(tmp_path, site)
    assert not _builds(calls)
    installs = [c for c in calls if '--force-reinstall' in c]
    assert len(installs) == 1 and str(ours) in installs[0]
    # The fake stack cannot import: the run fails, names the wheel folder
    # and leaves no stamp.
    assert run.returncode == 1 and str(ours) in run.stderr
