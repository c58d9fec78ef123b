"""setup_runtime: denormal flushing and the glibc allocator policy."""
import subprocess
import sys

import pytest
import torch

from mmdet_odconv.workbench import runtime

glibc = pytest.mark.skipif(
    not sys.platform.startswith('linux') or runtime._glibc() is None,
    reason='glibc only')


def _run(code: str, env_extra: dict) -> str:
    """Run ``code`` in a fresh interpreter (mallopt is process-wide)."""
    import os
    env = {k: v for k, v in os.environ.items()
           if k not in runtime._ALLOCATOR_ENV and k != 'LD_PRELOAD'}
    env.update(env_extra)
    return subprocess.run([sys.executable, '-c', code], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


@glibc
def test_allocator_is_tuned_on_glibc():
    code = ('from mmdet_odconv.workbench import tune_cpu_allocator;'
            'print(tune_cpu_allocator())')
    assert _run(code, {}) == 'True'


@pytest.mark.parametrize('name, value',
                         [('MALLOC_MMAP_THRESHOLD_', '65536'),
                          ('GLIBC_TUNABLES', 'glibc.malloc.trim_threshold=0'),
                          ('LD_PRELOAD', '/usr/lib/libjemalloc.so.2')])
def test_user_allocator_choice_is_respected(name, value, monkeypatch):
    """An allocator policy the user set is left alone (nothing is called)."""
    monkeypatch.setenv(name, value)
    monkeypatch.setattr(runtime, '_glibc', lambda: pytest.fail('called'))
    assert runtime.tune_cpu_allocator() is False


def test_setup_runtime_flushes_denormals():
    runtime.setup_runtime()
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    assert (tiny * 1.0).item() == 0.0
