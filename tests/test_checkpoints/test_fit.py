"""One comparison of a state dict with a model, each layer's own loading
included: what ODConv inflates on loading fits, what would stay random is
reported, and the likely cause is read from the shapes."""
import pytest
import torch

from mmdet_odconv.checkpoints import compare_state_dict, likely_causes
from mmdet_odconv.tools_support import build_detector

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
