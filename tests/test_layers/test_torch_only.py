"""The layer needs torch alone: no MMEngine, MMCV or MMDetection."""
import os.path as osp
import subprocess
import sys
import textwrap

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Run in a fresh interpreter in which importing the OpenMMLab packages
# fails, as where they are not installed.
SCRIPT = textwrap.dedent('''
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in ('mmcv', 'mmdet', 'mmengine'):
                raise ImportError(f'No module named {name!r} (blocked)',
                                  name=name)

    sys.meta_path.insert(0, Blocker())
    import torch
    import mmdet_odconv
    from mmdet_odconv import ODConv2d, convert_to_odconv, set_temperature

    layer = ODConv2d(8, 16, 3, padding=1, attention_norm_cfg=dict(type='GN',
                     num_groups=4))
    out = layer(torch.randn(2, 8, 6, 6))
    out.sum().backward()
    net = convert_to_odconv(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3)))
    assert isinstance(net[0], ODConv2d)
    net[0].load_state_dict(torch.nn.Conv2d(3, 8, 3).state_dict(),
                           strict=False)  # inflation logs without MMEngine
    assert set_temperature(net, 2.0) == 1
    assert not any(m.split('.')[0] in ('mmcv', 'mmdet', 'mmengine')
                   for m in sys.modules)
    assert 'ODResNet' not in mmdet_odconv.__all__
    try:
        mmdet_odconv.ODResNet
    except ImportError as e:
        assert 'needs MMDetection' in str(e) and 'mm' in str(e), e
    else:
        raise AssertionError('ODResNet without MMDetection')
    try:
        ODConv2d(8, 8, 3, attention_norm_cfg=dict(type='IN'))
    except ImportError as e:
        assert 'needs MMCV' in str(e), e
    print('ok')
''')


def test_layer_imports_and_runs_without_the_openmmlab_stack():
    proc = subprocess.run([sys.executable, '-c', SCRIPT], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('ok')


def test_import_loads_no_workbench():
    """``import mmdet_odconv`` registers the method only: the CPU and test
    workbench loads where a tool or a config imports it."""
    code = ('import sys, mmdet_odconv; '
            'print(sorted(m for m in sys.modules '
            "if m.startswith('mmdet_odconv.workbench')))")
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == '[]'
