"""Fast checks of tools/train.py and tools/test.py argument handling."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmdet_odconv.workbench import adapt_dist_cfg_for_cpu
from tools import test as test_tool
from tools import train as train_tool

CONFIG = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
def test_amp_on_cpu_replaces_an_amp_config_without_its_gpu_options():
    from mmengine.optim import build_optim_wrapper
    args = train_tool.parse_args([
        CONFIG, '--amp', '--cfg-options', 'optim_wrapper.type=AmpOptimWrapper',
        'optim_wrapper.loss_scale=512', 'optim_wrapper.dtype=float16'
    ])
    cfg = train_tool.build_cfg(args)
    assert cfg.optim_wrapper.type == 'BF16AutocastOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    assert 'dtype' not in cfg.optim_wrapper
    wrapper = build_optim_wrapper(nn.Linear(2, 2), cfg.optim_wrapper)
    assert type(wrapper).__name__ == 'BF16AutocastOptimWrapper'


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
@pytest.mark.parametrize('launcher', ['slurm', 'mpi'])
def test_non_torchrun_launchers_without_cuda_point_to_torchrun(launcher):
    with pytest.raises(SystemExit, match='dist_train.sh'):
        adapt_dist_cfg_for_cpu(Config(dict(launcher=launcher)))


def test_test_tool_leaves_remote_checkpoints_to_mmengine(tmp_path):
    """A URL is not a missing file: the tool goes on (here it stops at the
    missing demo data, before anything is downloaded)."""
    common = ['--work-dir', str(tmp_path), '--cfg-options',
              'test_dataloader.dataset.data_root=nowhere/']
    with pytest.raises(SystemExit) as e:
        test_tool.main([CONFIG, 'https://example.invalid/od.pth', *common])
    assert 'checkpoint not found' not in str(e.value)
    with pytest.raises(SystemExit, match='checkpoint not found'):
        test_tool.main([CONFIG, str(tmp_path / 'missing.pth'), *common])


def test_tools_import_the_installed_package():
    """No tool edits sys.path (make installs the package), and the tools
    that build a detector go through the one shared helper."""
    import glob
    tools = (['tools/train.py', 'tools/test.py', 'tools/demo.py'] +
             glob.glob('tools/analysis_tools/*.py') +
             glob.glob('tools/misc/*.py'))
    for path in tools:
        text = open(path).read()
        assert 'sys.path.insert' not in text, path
        assert 'MODELS.build' not in text and 'init_detector' not in text, \
            path
