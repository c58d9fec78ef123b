"""Checkpoints that do not fit the config are refused by every tool that
loads one, naming the keys and the likely cause; what ODConv inflates on
loading fits; files that are not checkpoints are named as such."""
import logging
import os

import pytest
import torch

from mmdet_odconv.checkpoints import CheckpointError
from mmdet_odconv.tools_support import build_detector, load_config
from tests.test_checkpoints.test_fit import OD1, OD4, STATIC, TINY, _state_dict
from tests.test_tools.test_train_test_e2e import tiny_options
from tools import demo
from tools import test as test_tool
from tools import train as train_tool


def _save(tmp_path, config, **options):
    path = tmp_path / f'{os.path.basename(config)}.pth'
    torch.save({'state_dict': _state_dict(config, **options),
                'meta': {}}, path)
    return str(path)


@pytest.fixture
def logged():
    """The messages MMEngine's current logger gets during a test."""
    from mmengine.logging import MMLogger
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_tools_accept_an_inflated_checkpoint_and_say_so(tmp_path, logged):
    """A static detector as load_from of the ODConv 4x config: checked,
    accepted, one line says the banks were inflated."""
    from mmdet_odconv.tools_support import check_checkpoint
    ckpt = _save(tmp_path, STATIC)
    cfg = load_config(OD4, cfg_options={**TINY, 'load_from': ckpt})
    check_checkpoint(cfg)
    lines = [m for m in logged if 'inflated into their' in m]
    assert len(lines) == 1 and ckpt in lines[0]
    cfg.resume = True  # resuming it is refused, with the way out
    with pytest.raises(CheckpointError, match='give it as load_from'):
        check_checkpoint(cfg)


def test_test_tool_refuses_a_misfit_unless_asked(tiny_data, tmp_path):
    """An ODConv 4x checkpoint on the static config: today's MMEngine loads
    what fits and prints the AP of a partly random model."""
    ckpt = _save(tmp_path, OD4)
    opts = ['--cfg-options', *tiny_options(tiny_data)]
    msg = test_tool.main([STATIC, ckpt, '--work-dir', str(tmp_path / 'a'),
                          *opts])
    assert isinstance(msg, str)
    assert ckpt in msg and 'backbone.layer1.0.conv1.attention.fc.weight' \
        in msg
    assert '[4, 8, 8, 3, 3] vs [8, 8, 3, 3]' in msg
    assert 'static config' in msg and '--allow-partial-load' in msg
    assert not (tmp_path / 'a').exists()  # stopped before the runner
    metrics = test_tool.main([
        STATIC, ckpt, '--work-dir', str(tmp_path / 'b'),
        '--allow-partial-load', *opts
    ])
    assert 'coco/bbox_mAP' in metrics


def test_train_tool_refuses_misfit_resume_and_load_from(tiny_data,
                                                        tmp_path):
    ckpt = _save(tmp_path, OD1)
    work = tmp_path / 'work'
    common = ['--work-dir', str(work), '--cfg-options',
              *tiny_options(tiny_data)]
    msg = train_tool.main([OD4, '--resume', ckpt, *common])
    assert isinstance(msg, str) and 'ODConv 1x' in msg
    od4 = _save(tmp_path, OD4)
    msg = train_tool.main([OD1, *common, f'load_from={od4}'])
    assert isinstance(msg, str) and 'kernel_num=4 but this ODConv2d' in msg
    assert not work.exists()


def test_demo_refuses_misfit_load_from(tiny_data, tmp_path):
    ckpt = _save(tmp_path, OD4)
    with pytest.raises(CheckpointError, match='ODConv checkpoint given with '
                       'a static config'):
        demo.train_and_evaluate(STATIC, str(tmp_path / 'w'), str(tiny_data),
                                {**TINY, 'load_from': ckpt})
    args = demo.parse_args(['--allow-partial-load'])
    assert args.allow_partial_load


@pytest.mark.parametrize('content, what', [
    (b'<!DOCTYPE html><html><body>404 Not Found</body></html>',
     'an HTML page'),
    (b'garbage text, not a checkpoint\n', 'a text file'),
])
def test_tools_name_files_that_are_not_checkpoints(tiny_data, tmp_path,
                                                   content, what):
    bad = tmp_path / 'model.pth'
    bad.write_bytes(content)
    opts = ['--work-dir', str(tmp_path / 'w'), '--cfg-options',
            *tiny_options(tiny_data)]
    for run in (lambda: test_tool.main([OD4, str(bad), *opts]),
                lambda: train_tool.main([OD4, '--resume', str(bad), *opts])):
        msg = run()
        assert isinstance(msg, str)
        assert f'{bad} is not a PyTorch checkpoint: it is {what}' in msg
        assert 'Unsupported operand' not in msg


def test_load_config_keeps_options_through_build(tmp_path):
    """build_detector applies --cfg-options to a path or a Config."""
    cfg = load_config(OD4, cfg_options=TINY)
    a = build_detector(cfg)
    b = build_detector(OD4, cfg_options=TINY)
    assert a.backbone.base_channels == b.backbone.base_channels == 8
    assert not a.training
