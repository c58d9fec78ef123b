"""Decide how ``tools/setup_env.sh`` builds mmcv's ops: CPU or CUDA.

Run it with the new environment's Python once torch is installed. It prints
one line, ``<ops> <cache key> [<CUDA_HOME>]``, and exits 0; or it explains on
stderr why it will not build and exits 1, before anything is compiled.

- torch sees no CUDA device: CPU ops.
- torch sees one and a CUDA toolkit of the same major version as
  ``torch.version.cuda`` is found (the check PyTorch's extension builder
  makes): CUDA ops, built with that toolkit.
- torch sees one and no such toolkit is found: stop, naming the choices.
- ``MMCV_CPU_ONLY=1``: CPU ops, whatever torch sees.

Only the standard library and torch are imported, so tests can run it with a
fake ``torch`` module.
"""
from __future__ import annotations

import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

DEFAULT_CUDA_HOME = '/usr/local/cuda'
CPU_ONLY_VAR = 'MMCV_CPU_ONLY'


@dataclass(frozen=True)
class TorchFacts:
    """What the installed torch says about CUDA."""

    version: str
    cuda_available: bool
    cuda_version: Optional[str]  # torch.version.cuda; None on CPU builds
    arch: Tuple[str, ...] = ()  # compute capabilities, e.g. ('9.0', )


@dataclass(frozen=True)
class Toolkit:
    """A CUDA toolkit found on this machine.

    ``version`` is None when ``home`` holds no working ``bin/nvcc``.
    """

    home: str
    version: Optional[str]
    found_by: str


@dataclass(frozen=True)
class Decision:
    """How to build mmcv's ops; ``key`` names the built wheel's cache."""

    ops: str  # 'cpu' or 'cuda'
    key: str
    cuda_home: Optional[str] = None
    note: str = ''


class SetupStop(Exception):
    """The build would fail or be wrong; the message says what to do."""


def nvcc_version(nvcc: str) -> Optional[str]:
    """``'12.1'`` from ``nvcc --version``, or None if it does not run."""
    try:
        out = subprocess.run([nvcc, '--version'],
                             capture_output=True,
                             text=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'release (\d+)\.(\d+)', out)
    return f'{match.group(1)}.{match.group(2)}' if match else None


def find_toolkit(env: Mapping[str, str],
                 default_home: str = DEFAULT_CUDA_HOME) -> Optional[Toolkit]:
    """Find the toolkit the way ``torch.utils.cpp_extension`` does.

    ``CUDA_HOME``, then ``CUDA_PATH``, then the folder above the ``nvcc``
    on ``PATH``, then ``default_home``: the first one found is the one
    mmcv's build would use, so it is the one checked.
    """
    for var in ('CUDA_HOME', 'CUDA_PATH'):
        if env.get(var):
            home = env[var]
            return Toolkit(home, nvcc_version(osp.join(home, 'bin', 'nvcc')),
                           var)
    nvcc = shutil.which('nvcc', path=env.get('PATH', ''))
    if nvcc:
        return Toolkit(
            osp.dirname(osp.dirname(nvcc)), nvcc_version(nvcc),
            f'nvcc on PATH ({nvcc})')
    if osp.isdir(default_home):
        return Toolkit(default_home,
                       nvcc_version(osp.join(default_home, 'bin', 'nvcc')),
                       default_home)
    return None


def _choices(facts: TorchFacts) -> str:
    major = facts.cuda_version.split('.')[0] if facts.cuda_version else '?'
    return (
        'Nothing was compiled. Choose one and run the same command again:\n'
        f'  1. Install a CUDA {major}.x toolkit (torch {facts.version} was '
        f'built with CUDA {facts.cuda_version}) and point CUDA_HOME at it,\n'
        '     e.g. CUDA_HOME=/usr/local/cuda-'
        f'{facts.cuda_version} make setup\n'
        '  2. Use the prebuilt stack, which needs no compiler: torch 2.1.2 '
        '(CUDA 12.1 wheels) and\n'
        '     `mim install mmcv==2.1.0`, step by step in docs/install.md.\n'
        f'  3. Build mmcv with CPU ops only: {CPU_ONLY_VAR}=1 make setup\n'
        '     ODConv itself then runs on the GPU, but mmcv ops such as '
        'RoIAlign and NMS\n'
        '     take CPU tensors only, so detectors cannot train or test on '
        'the GPU.')


def _same_major(a: str, b: str) -> bool:
    return a.split('.')[0] == b.split('.')[0]


def decide(facts: TorchFacts,
           toolkit: Optional[Toolkit],
           cpu_only: bool = False) -> Decision:
    """The build of mmcv's ops that fits this torch and machine.

    Raises:
        SetupStop: torch sees a CUDA device and no matching toolkit is found.
    """
    if cpu_only or not facts.cuda_available:
        note = ''
        if cpu_only and facts.cuda_available:
            note = (f'[setup] {CPU_ONLY_VAR}=1: building mmcv with CPU ops '
                    'only; detectors cannot train or test on the GPU (mmcv '
                    'RoIAlign and NMS take CPU tensors only).')
        return Decision('cpu', f'torch{facts.version}-cpu', None, note)
    if not facts.cuda_version:
        raise SetupStop(
            f'[setup] torch {facts.version} sees a GPU but is not a CUDA '
            'build (torch.version.cuda is None; ROCm?). This script builds '
            f'mmcv for CUDA or CPU only; set {CPU_ONLY_VAR}=1 for CPU ops.')
    head = (f'[setup] torch {facts.version} sees a CUDA GPU, so mmcv would '
            'be built with CUDA ops, which needs the CUDA toolkit (nvcc) of '
            f'torch\'s CUDA {facts.cuda_version}.\n')
    if toolkit is None:
        raise SetupStop(
            head + 'No toolkit was found (looked at CUDA_HOME, CUDA_PATH, '
            f'nvcc on PATH and {DEFAULT_CUDA_HOME}).\n' + _choices(facts))
    if toolkit.version is None:
        raise SetupStop(
            head + f'{toolkit.home} (from {toolkit.found_by}) has no working '
            'bin/nvcc.\n' + _choices(facts))
    if not _same_major(toolkit.version, facts.cuda_version):
        raise SetupStop(
            head + f'The toolkit at {toolkit.home} (from {toolkit.found_by}) '
            f'is CUDA {toolkit.version}; PyTorch refuses to build extensions '
            'across CUDA major versions.\n' + _choices(facts))
    note = ''
    if toolkit.version != facts.cuda_version:
        note = (f'[setup] toolkit CUDA {toolkit.version} with torch\'s CUDA '
                f'{facts.cuda_version}: same major version, which PyTorch '
                'accepts with a warning.')
    arch = '+'.join(facts.arch) or 'any'
    key = f'torch{facts.version}-cuda{toolkit.version}-sm{arch}'
    return Decision('cuda', key, toolkit.home, note)


def torch_facts(env: Mapping[str, str]) -> TorchFacts:
    """Ask the installed torch; the arch list follows what the build uses."""
    import torch
    available = bool(torch.cuda.is_available())
    arch: Tuple[str, ...] = ()
    if env.get('TORCH_CUDA_ARCH_LIST'):
        arch = tuple(env['TORCH_CUDA_ARCH_LIST'].replace(';', ' ').split())
    elif available:
        arch = tuple(
            sorted({
                '{}.{}'.format(*torch.cuda.get_device_capability(i))
                for i in range(torch.cuda.device_count())
            }))
    return TorchFacts(torch.__version__, available, torch.version.cuda, arch)


def main(env: Optional[Mapping[str, str]] = None) -> int:
    """Print the decision (stdout) or why there is none (stderr, exit 1)."""
    env = os.environ if env is None else env
    facts = torch_facts(env)
    cpu_only = env.get(CPU_ONLY_VAR, '') not in ('', '0')
    toolkit = None
    if facts.cuda_available and not cpu_only:
        toolkit = find_toolkit(env)
    try:
        decision = decide(facts, toolkit, cpu_only)
    except SetupStop as stop:
        print(stop, file=sys.stderr)
        return 1
    if decision.note:
        print(decision.note, file=sys.stderr)
    key = f'{decision.key}-py{sys.version_info[0]}{sys.version_info[1]}'
    print(' '.join(x for x in (decision.ops, key, decision.cuda_home) if x))
    return 0


if __name__ == '__main__':
    sys.exit(main())
