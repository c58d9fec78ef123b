"""A wheel built from the checkout carries the configs where MMEngine reads
``mmdet_odconv::`` bases, and asks for torch alone unless the ``mmdet``
extra is chosen."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap
import zipfile
from email.parser import Parser

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MIM = 'mmdet_odconv/.mim/'
# A config and the two it inherits from in the repository.
CHAIN = ('odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py',
         'odconv/faster-rcnn_r50-odconv1x_fpn_1x_coco.py',
         'odconv/faster-rcnn_r50_fpn_1x_coco.py')


def _checkout_files():
    """What a clone of the working tree holds: tracked and new files."""
    if shutil.which('git') is None or not osp.exists(osp.join(ROOT, '.git')):
        pytest.skip('builds from a git checkout (git ls-files)')
    cmd = ['git', 'ls-files', '-z', '--cached', '--others']
    out = subprocess.run(
        cmd + ['--exclude-standard'],
        cwd=ROOT,
        capture_output=True,
        check=True)
    return sorted({p for p in out.stdout.decode().split('\0') if p})


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """Build a wheel from a copy of the checkout (links kept as links), so
    the build leaves nothing in the working tree."""
    src = tmp_path_factory.mktemp('src')
    for rel in _checkout_files():
        path = osp.join(ROOT, rel)
        if not osp.lexists(path):  # deleted, not yet committed
            continue
        os.makedirs(osp.dirname(osp.join(src, rel)), exist_ok=True)
        if osp.islink(path):
            os.symlink(os.readlink(path), osp.join(src, rel))
        else:
            shutil.copy2(path, osp.join(src, rel))
    out = tmp_path_factory.mktemp('wheel')
    cmd = [
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--disable-pip-version-check', '-q'
    ]
    build = subprocess.run(
        cmd + [str(src), '-w', str(out)],
        capture_output=True,
        text=True,
        timeout=600)
    assert build.returncode == 0, build.stderr
    (whl, ) = out.glob('mmdet_odconv-*.whl')
    return src, whl


def test_wheel_holds_every_config_as_in_the_checkout(wheel):
    src, whl = wheel
    with zipfile.ZipFile(whl) as zf:
        shipped = {
            n[len(MIM + 'configs/'):]: zf.read(n)
            for n in zf.namelist() if n.startswith(MIM + 'configs/')
        }
        index = yaml.safe_load(zf.read(MIM + 'model-index.yml'))
        names = set(zf.namelist())
    configs = osp.join(src, 'configs')
    expected = {
        osp.relpath(osp.join(d, f), configs)
        for d, _, files in os.walk(configs)
        for f in files
    }
    assert set(shipped) == expected
    for rel in expected:
        with open(osp.join(configs, rel), 'rb') as f:
            assert shipped[rel] == f.read(), rel
    assert set(CHAIN) <= set(shipped)
    for metafile in index['Import']:
        assert MIM + metafile in names, metafile


def test_wheel_requires_torch_alone_without_the_mmdet_extra(wheel):
    _, whl = wheel
    with zipfile.ZipFile(whl) as zf:
        meta = [n for n in zf.namelist() if n.endswith('dist-info/METADATA')]
        text = zf.read(meta[0]).decode()
    requires = [
        Requirement(r)
        for r in Parser().parsestr(text).get_all('Requires-Dist')
    ]
    plain = {r.name for r in requires if r.marker is None}
    mmdet = {
        r.name
        for r in requires
        if r.marker is not None and r.marker.evaluate({'extra': 'mmdet'})
    }
    assert plain == {'torch'}
    assert {'mmengine', 'mmcv', 'mmdet', 'pycocotools'} <= mmdet


def test_installed_wheel_resolves_the_scope(wheel, tmp_path):
    # Unpacked as pip installs a pure-Python wheel, and first on the path:
    # the bases come from the installed copy, not from the checkout.
    _, whl = wheel
    site = tmp_path / 'site'
    with zipfile.ZipFile(whl) as zf:
        zf.extractall(site)
    user = tmp_path / 'my_config.py'
    user.write_text(f"_base_ = 'mmdet_odconv::{CHAIN[0]}'\n")
    script = textwrap.dedent(f"""\
        import mmdet_odconv
        from mmengine.config import Config
        from mmengine.config.utils import MODULE2PACKAGE
        from mmengine.utils import get_installed_path
        cfg = Config.fromfile({str(user)!r})
        print('package:', mmdet_odconv.__file__)
        print('configs:', get_installed_path(MODULE2PACKAGE['mmdet_odconv']))
        print('backbone:', cfg.model.backbone.type,
              cfg.model.backbone.odconv.kernel_num)
        """)
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run([sys.executable, '-c', script],
                         cwd=str(tmp_path),
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert f'package: {site}' in out.stdout, out.stdout
    assert f'configs: {site}' in out.stdout, out.stdout
    assert 'backbone: ODResNet 4' in out.stdout, out.stdout
