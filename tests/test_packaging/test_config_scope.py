"""``mmdet_odconv::`` config bases: a config outside the repository inherits
the configs the package ships, as ``mmdet::`` ones are inherited."""
import logging
import os
import os.path as osp
import subprocess
import sys
import textwrap

import mmengine.logging
import yaml
from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.registry import HOOKS, TRANSFORMS, init_default_scope
from mmengine.utils import get_installed_path, is_installed

import mmdet_odconv
from mmdet_odconv import ODConv2d
from mmdet_odconv.config_scope import SCOPE

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = osp.dirname(osp.abspath(mmdet_odconv.__file__))
BASE = 'mmdet_odconv::odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py'


def _files(top):
    """Relative paths of the files below ``top`` (links followed)."""
    return {
        osp.relpath(osp.join(d, f), top)
        for d, _, files in os.walk(top, followlinks=True)
        for f in files if '__pycache__' not in d
    }


def _write_user_config(folder, text):
    path = osp.join(str(folder), 'my_config.py')
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text))
    return path


def test_scope_points_at_the_package():
    # MMEngine looks the scope up with these two calls; both must land on
    # the imported package (an editable install included).
    assert SCOPE in MODULE2PACKAGE
    assert is_installed(MODULE2PACKAGE[SCOPE])
    assert get_installed_path(MODULE2PACKAGE[SCOPE]) == PACKAGE


def test_package_ships_every_config_and_the_model_index():
    mim = osp.join(PACKAGE, '.mim')
    repo_configs = _files(osp.join(ROOT, 'configs'))
    assert _files(osp.join(mim, 'configs')) == repo_configs
    with open(osp.join(mim, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    assert imports
    for metafile in imports:  # MMEngine reads each one for a scoped base
        assert osp.isfile(osp.join(mim, metafile)), metafile


def test_user_config_outside_the_repo_builds_the_detector(tmp_path):
    path = _write_user_config(
        tmp_path, f"""\
        _base_ = '{BASE}'
        model = dict(
            backbone=dict(init_cfg=None),  # no weights offline
            roi_head=dict(bbox_head=dict(num_classes=3)))
        """)
    cfg = Config.fromfile(path)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    odconvs = [m for m in model.modules() if isinstance(m, ODConv2d)]
    # The paper's placement in ResNet-50: the three convs of each of the
    # 3 + 4 + 6 + 3 bottlenecks; stem and shortcuts stay static.
    assert len(odconvs) == 3 * (3 + 4 + 6 + 3)
    assert {m.kernel_num for m in odconvs} == {4}
    assert model.roi_head.bbox_head.num_classes == 3  # the user's override


def test_scoped_modules_build_through_the_scope_registry(monkeypatch):
    # What a shipped config defines carries _scope_='mmdet_odconv'. MMEngine
    # then needs mmdet_odconv.registry (else it warns at every build) and
    # must still find MMDetection's modules and this package's.
    warnings = []

    def record(msg, logger=None, level=logging.INFO):
        if level >= logging.WARNING:
            warnings.append(msg)

    monkeypatch.setattr(mmengine.logging, 'print_log', record)
    init_default_scope('mmdet')
    pack = TRANSFORMS.build(dict(type='PackDetInputs', _scope_=SCOPE))
    hook = HOOKS.build(dict(type='ODConvTemperatureHook', _scope_=SCOPE))
    assert type(pack).__name__ == 'PackDetInputs'
    assert type(hook) is mmdet_odconv.ODConvTemperatureHook
    assert not warnings, warnings


def test_scope_exists_once_the_package_is_imported(tmp_path):
    # The limit to document: a process that parses such a config before
    # importing mmdet_odconv (MMDetection's own tools/train.py does, before
    # custom_imports run) gets MMEngine's assertion.
    path = _write_user_config(tmp_path, f"_base_ = '{BASE}'\n")
    script = textwrap.dedent(f"""\
        from mmengine.config import Config
        try:
            Config.fromfile({path!r})
        except AssertionError as e:
            print('before import:', e)
        import mmdet_odconv
        cfg = Config.fromfile({path!r})
        print('after import:', cfg.model.backbone.type)
        """)
    out = subprocess.run([sys.executable, '-c', script],
                         cwd=str(tmp_path),
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert 'before import: mmengine does not support to load mmdet_odconv' \
        in out.stdout, out.stdout
    assert 'after import: ODResNet' in out.stdout, out.stdout


def test_package_imports_without_mmengine():
    # The layer needs torch alone: the scope is skipped, nothing raises.
    script = textwrap.dedent("""\
        import sys
        for name in ('mmengine', 'mmcv', 'mmdet'):
            sys.modules[name] = None  # any import of them raises ImportError
        import mmdet_odconv
        from mmdet_odconv.config_scope import register_config_scope
        print('registered:', register_config_scope())
        """)
    out = subprocess.run([sys.executable, '-c', script],
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert 'registered: False' in out.stdout
