"""Checkpoints that do not fit the config are refused by every tool that
loads one, naming the keys and the likely cause; what ODConv inflates on
loading fits; files that are not checkpoints are named as such."""
import logging
import os

import pytest
import torch

from mmdet_odconv.utils import build_detector, load_config
from mmdet_odconv.utils.checkpoint_check import (compare_state_dict,
                                                 likely_causes)
from tests.test_tools.test_train_test_e2e import tiny_options
from tools import demo
from tools import test as test_tool
from tools import train as train_tool

DEMO = 'configs/demo/faster-rcnn_r18{}_fpn_demo.py'
STATIC, OD1, OD4 = (DEMO.format(v) for v in ('', '-odconv1x', '-odconv4x'))
TINY = {
    'model.backbone.base_channels': 8,
    'model.neck.in_channels': [8, 16, 32, 64]
}


def _state_dict(config, **options):
    """The weights of ``config``'s (tiny) detector, as a trained one has."""
    model = build_detector(config, cfg_options={**TINY, **options})
    return model.state_dict()


def _save(tmp_path, config, **options):
    path = tmp_path / f'{os.path.basename(config)}.pth'
    torch.save({'state_dict': _state_dict(config, **options),
                'meta': {}}, path)
    return str(path)


def _diff_and_causes(config, state_dict, **options):
    model = build_detector(config, cfg_options={**TINY, **options})
    diff = compare_state_dict(model, state_dict)
    return diff, ' '.join(likely_causes(model, state_dict, diff))


def test_a_fitting_checkpoint_reports_nothing():
    diff, _ = _diff_and_causes(OD4, _state_dict(OD4))
    assert not diff


def test_odconv_checkpoint_on_static_config():
    diff, causes = _diff_and_causes(STATIC, _state_dict(OD4))
    assert any('.attention.kernel_fc.' in k for k in diff.unexpected)
    key, theirs, ours = diff.mismatched[0]
    assert len(theirs) == 5 and theirs[0] == 4 and len(ours) == 4
    assert 'ODConv checkpoint given with a static config' in causes


def _backbone_outputs(model, x):
    with torch.no_grad():
        return model.eval().backbone(x)


@pytest.mark.parametrize('source', [STATIC, OD1])
def test_static_and_1x_checkpoints_fit_an_odconv_4x_config(source):
    """The layer inflates static and one-kernel weights into its bank; the
    attention weights the checkpoint lacks cannot change the output, so
    nothing is left random: the loaded model computes the checkpoint's."""
    trained = build_detector(source, cfg_options=TINY)
    od4 = build_detector(OD4, cfg_options=TINY)
    diff = compare_state_dict(od4, trained.state_dict())
    assert not diff
    assert 'backbone.layer1.0.conv1' in diff.inflated
    x = torch.randn(2, 3, 64, 64)
    for got, want in zip(_backbone_outputs(od4, x),
                         _backbone_outputs(trained, x)):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    # a run resumed from it must continue the same model: all reported
    strict = compare_state_dict(
        build_detector(OD4, cfg_options=TINY), trained.state_dict(),
        inflation_ok=False)
    assert strict.missing and all('.attention.' in k for k in strict.missing)


def test_a_random_attention_is_still_reported():
    """Only what the loaded model cannot depend on is excused: an ODConv
    4x checkpoint without its kernel heads leaves them random."""
    sd = {k: v for k, v in _state_dict(OD4).items() if 'kernel_fc' not in k}
    diff, _ = _diff_and_causes(OD4, sd)
    assert diff.missing and all('kernel_fc' in k for k in diff.missing)


@pytest.mark.parametrize('ckpt, config, n_ckpt, n_cfg',
                         [(OD1, OD4, 1, 4), (OD4, OD1, 4, 1)])
def test_kernel_num_1x_vs_4x(ckpt, config, n_ckpt, n_cfg):
    """4x into 1x cannot load (four kernels into one); 1x into 4x is
    inflated, and refused only where a run is resumed."""
    model = build_detector(config, cfg_options=TINY)
    state = _state_dict(ckpt)
    diff = compare_state_dict(model, state, inflation_ok=n_ckpt > n_cfg)
    causes = ' '.join(likely_causes(model, state, diff))
    assert diff
    assert (f'checkpoint is ODConv {n_ckpt}x (kernel_num={n_ckpt}) but the '
            f'config builds ODConv {n_cfg}x') in causes


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
    from mmdet_odconv.utils import check_checkpoint
    ckpt = _save(tmp_path, STATIC)
    cfg = load_config(OD4, cfg_options={**TINY, 'load_from': ckpt})
    check_checkpoint(cfg)
    lines = [m for m in logged if 'inflated into their' in m]
    assert len(lines) == 1 and ckpt in lines[0]
    cfg.resume = True  # resuming it is refused, with the way out
    with pytest.raises(SystemExit, match='give it as load_from'):
        check_checkpoint(cfg)


def test_other_classes_and_backbone_alone():
    diff, causes = _diff_and_causes(
        STATIC, _state_dict(STATIC),
        **{'model.roi_head.bbox_head.num_classes': 3})
    assert {k for k, _, _ in diff.mismatched} >= {
        'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_reg.bias'
    }
    assert 'another set of classes' in causes
    backbone = {
        k[len('backbone.'):]: v
        for k, v in _state_dict(STATIC).items() if k.startswith('backbone.')
    }
    diff, causes = _diff_and_causes(STATIC, backbone)
    assert 'backbone alone' in causes and 'init_cfg' in causes


def test_test_tool_refuses_a_misfit_unless_asked(tiny_data, tmp_path):
    """An ODConv 4x checkpoint on the static config: today's MMEngine loads
    what fits and prints the AP of a partly random model."""
    ckpt = _save(tmp_path, OD4)
    opts = ['--cfg-options', *tiny_options(tiny_data)]
    with pytest.raises(SystemExit) as e:
        test_tool.main([STATIC, ckpt, '--work-dir', str(tmp_path / 'a'),
                        *opts])
    msg = str(e.value)
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
    with pytest.raises(SystemExit, match='ODConv 1x'):
        train_tool.main([OD4, '--resume', ckpt, *common])
    od4 = _save(tmp_path, OD4)
    with pytest.raises(SystemExit, match='kernel_num=4 but this ODConv2d'):
        train_tool.main([OD1, *common, f'load_from={od4}'])
    assert not work.exists()


def test_demo_refuses_misfit_load_from(tiny_data, tmp_path):
    ckpt = _save(tmp_path, OD4)
    with pytest.raises(SystemExit, match='ODConv checkpoint given with a '
                       'static config'):
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
        with pytest.raises(SystemExit) as e:
            run()
        msg = str(e.value)
        assert f'{bad} is not a PyTorch checkpoint: it is {what}' in msg
        assert 'Unsupported operand' not in msg


def test_load_config_keeps_options_through_build(tmp_path):
    """build_detector applies --cfg-options to a path or a Config."""
    cfg = load_config(OD4, cfg_options=TINY)
    a = build_detector(cfg)
    b = build_detector(OD4, cfg_options=TINY)
    assert a.backbone.base_channels == b.backbone.base_channels == 8
    assert not a.training
