"""Fast checks of the tools' argument handling and of what they advise."""
import os
import re

import pytest
import torch
import torch.nn as nn

from mmdet_odconv.tools_support import PARTIAL_HINT
from tools import demo
from tools import test as test_tool
from tools import train as train_tool

CONFIG = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'


def assert_advice_parses(message, parse_args, positionals):
    """Every ``--flag`` a tool's message advises is one the same tool's
    argument parser accepts (a flag it does not know exits with 2)."""
    flags = re.findall(r'(?<![\w-])--[a-z][a-z-]+', message)
    for flag in flags:
        parse_args([*positionals, flag])
    return flags


def test_partial_load_advice_names_what_each_tool_accepts():
    """train.py, test.py and demo.py take --allow-partial-load (and read
    allow_partial_load from the config, through check_checkpoint)."""
    assert assert_advice_parses(PARTIAL_HINT, train_tool.parse_args,
                                [CONFIG]) == ['--allow-partial-load']
    assert_advice_parses(PARTIAL_HINT, test_tool.parse_args,
                         [CONFIG, 'ckpt.pth'])
    assert_advice_parses(PARTIAL_HINT, demo.parse_args, [])
    with pytest.raises(SystemExit):  # the helper does catch unknown flags
        assert_advice_parses('pass --no-such-flag', demo.parse_args, [])


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


def test_test_tool_adds_the_saved_temperature_hook(monkeypatch, tiny_data,
                                                   tmp_path):
    """The runner of tools/test.py applies a checkpoint's saved
    temperature whatever hooks the config has."""
    from mmdet_odconv.tools_support import build_detector
    from tests.test_tools.test_train_test_e2e import tiny_options
    opts = tiny_options(tiny_data)
    ckpt = tmp_path / 'c.pth'
    cfg_opts = dict(o.split('=', 1) for o in opts if o.startswith('model.'))
    cfg_opts = {k: eval(v) if v.startswith('[') else int(v)
                for k, v in cfg_opts.items()}
    torch.save({'state_dict': build_detector(CONFIG,
                                             cfg_opts).state_dict()}, ckpt)
    built = {}

    def capture(cfg):
        built['cfg'] = cfg
        raise KeyboardInterrupt

    monkeypatch.setattr(test_tool.Runner, 'from_cfg', capture)
    with pytest.raises(KeyboardInterrupt):
        test_tool.main([CONFIG, str(ckpt), '--work-dir', str(tmp_path),
                        '--cfg-options', *opts])
    assert {'type': 'SavedTemperatureHook'} in built['cfg'].custom_hooks


def test_test_out_never_overwrites_the_checkpoint(tmp_path):
    """However --out is spelled (a symlink, ./a/../a), it is refused when
    it is the checkpoint the test reads."""
    ckpt = tmp_path / 'model.pkl'
    ckpt.write_bytes(b'weights')
    os.symlink(ckpt, tmp_path / 'alias.pkl')
    for out in (tmp_path / 'alias.pkl', f'{tmp_path}/d/../model.pkl'):
        msg = test_tool.main([CONFIG, str(ckpt), '--out', str(out)])
        assert isinstance(msg, str) and 'is the checkpoint this' in msg
    assert ckpt.read_bytes() == b'weights'


def test_test_tool_leaves_remote_checkpoints_to_mmengine(tmp_path):
    """A URL is not a missing file: the tool goes on (here it stops at the
    missing demo data, before anything is downloaded)."""
    common = ['--work-dir', str(tmp_path), '--cfg-options',
              'test_dataloader.dataset.data_root=nowhere/']
    msg = test_tool.main([CONFIG, 'https://example.invalid/od.pth', *common])
    assert isinstance(msg, str) and 'Dataset files not found:' in msg
    assert 'checkpoint not found' not in msg
    msg = test_tool.main([CONFIG, str(tmp_path / 'missing.pth'), *common])
    assert isinstance(msg, str) and 'checkpoint not found' in msg


def test_a_tool_prints_one_message_and_exits_1(tmp_path):
    """The checks raise; run as a script, the tool prints the message
    its main returns, once and alone, and exits with status 1."""
    import subprocess
    import sys
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir',
         str(tmp_path), '--cfg-options',
         'train_dataloader.dataset.data_root=nowhere/odconv_demo/'],
        capture_output=True, text=True)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.count('Dataset files not found:') == 1
    assert 'make_demo_data.py --out nowhere/odconv_demo' in proc.stderr


def test_tools_import_the_installed_package():
    """No tool edits sys.path (make installs the package), and the tools
    that build a detector go through the one shared helper."""
    import glob
    tools = (['tools/train.py', 'tools/test.py', 'tools/demo.py'] +
             glob.glob('tools/analysis_tools/*.py') +
             glob.glob('tools/misc/*.py') +
             glob.glob('tools/model_converters/*.py'))
    for path in tools:
        text = open(path).read()
        assert 'sys.path.insert' not in text, path
        assert 'MODELS.build' not in text and 'init_detector' not in text, \
            path
