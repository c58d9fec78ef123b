"""BN folding into ODConv, and ONNX export with a dynamic batch axis."""
import copy

import numpy as np
import pytest
import torch
import torch.nn as nn

from mmdet_odconv import ODConv2d
from mmdet_odconv.deploy import export_onnx, fuse_odconv_bn
from mmdet_odconv.models import ODResNet


def _randomise_bns(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
    return model


def test_fuse_bn_into_odconv_is_exact():
    torch.manual_seed(0)
    model = _randomise_bns(ODResNet(depth=18, base_channels=8,
                                    odconv=dict(kernel_num=4)))
    model.eval()  # mmdet's ResNet.train() returns None: no chaining
    x = torch.randn(2, 3, 64, 64)
    expected = model(x)
    fused = fuse_odconv_bn(copy.deepcopy(model))
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    n_bn_fused = sum(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    n_od = sum(isinstance(m, ODConv2d) for m in model.modules())
    assert n_bn - n_bn_fused == n_od  # one BN after every ODConv
    assert isinstance(fused.layer1[0].bn1, nn.Identity)
    assert fused.layer1[0].conv1.bias is not None
    assert isinstance(fused.layer1[0].conv1.attention.bn, nn.BatchNorm2d)
    for a, b in zip(expected, fused(x)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_fuse_refuses_a_training_mode_bn_before_folding_anything():
    first = nn.Sequential(ODConv2d(8, 16, 3), nn.BatchNorm2d(16)).eval()
    second = nn.Sequential(ODConv2d(16, 16, 3), nn.BatchNorm2d(16)).train()
    model = nn.Sequential(first, second)
    weight = first[0].weight.detach().clone()
    with pytest.raises(ValueError, match=r'call model.eval\(\) first'):
        fuse_odconv_bn(model)
    assert isinstance(first[1], nn.BatchNorm2d)  # nothing half-folded
    assert first[0].bias is None
    torch.testing.assert_close(first[0].weight, weight)


def test_mmcv_fuse_conv_bn_then_ours_on_a_whole_backbone():
    """MMCV's fuse_conv_bn folds the attentions' BNs (and the static
    convs'); ours then folds the BNs after the ODConvs: same output."""
    from mmcv.cnn import fuse_conv_bn
    torch.manual_seed(0)
    model = _randomise_bns(ODResNet(depth=18, base_channels=8,
                                    odconv=dict(kernel_num=4)))
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    expected = model(x)
    fused = fuse_odconv_bn(fuse_conv_bn(copy.deepcopy(model)))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    for a, b in zip(expected, fused(x)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('batch', [1, 3])
def test_onnx_export_dynamic_batch_matches_pytorch(tmp_path, batch):
    ort = pytest.importorskip('onnxruntime')
    torch.manual_seed(0)
    model = _randomise_bns(ODResNet(depth=18, base_channels=8,
                                    out_indices=(3, ),
                                    odconv=dict(kernel_num=4)))
    model.eval()
    path = export_onnx(model, str(tmp_path / 'od_r18.onnx'),
                       (2, 3, 64, 64))
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    x = torch.randn(batch, 3, 64, 64)
    (out, ) = sess.run(None, {'input': x.numpy()})
    with torch.no_grad():
        ref = model(x)[0].numpy()
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-3)
    # export restored the layers' formulation
    assert {m.impl for m in model.modules() if isinstance(m, ODConv2d)} \
        == {'auto'}


class _Named(nn.Module):
    """An ODConv and its BN under names a wrapper (``module``) or nothing
    in particular would use, inside a child called ``module`` too."""

    def __init__(self) -> None:
        super().__init__()
        self.module = nn.Sequential()
        self.module.add_module('module', ODConv2d(8, 16, 3, padding=1))
        self.module.add_module('after_it', nn.BatchNorm2d(16))
        self.tail = nn.ModuleDict({'x': ODConv2d(16, 8, 1),
                                   'y': nn.BatchNorm2d(8)})

    def forward(self, x):
        return self.tail['y'](self.tail['x'](self.module(x)))


def test_fuse_reaches_every_pair_whatever_the_names_and_wrappers():
    torch.manual_seed(0)
    model = _randomise_bns(_Named()).eval()
    x = torch.randn(2, 8, 7, 7)
    expected = model(x)
    wrapped = nn.DataParallel(model)  # a wrapper holds it as a child
    fuse_odconv_bn(wrapped)
    assert isinstance(model.module.after_it, nn.Identity)
    assert isinstance(model.tail['y'], nn.Identity)
    torch.testing.assert_close(model(x), expected, rtol=1e-4, atol=1e-4)


def test_fuse_folds_a_shared_block_once():
    """A block registered under two parents is one conv and one BN:
    folded once."""
    torch.manual_seed(0)
    block = nn.Sequential(ODConv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
    model = _randomise_bns(nn.Sequential(
        nn.Sequential(block, nn.ReLU()), nn.Sequential(block))).eval()
    x = torch.randn(2, 8, 7, 7)
    expected = model(x)
    fuse_odconv_bn(model)
    assert isinstance(block[1], nn.Identity)
    torch.testing.assert_close(model(x), expected, rtol=1e-4, atol=1e-4)


def test_fuse_leaves_a_conv_shared_between_two_bns(monkeypatch):
    """One ODConv followed by a different BN in two places cannot take
    both: left unfolded and logged, the output unchanged."""
    from mmdet_odconv import deploy
    torch.manual_seed(0)
    conv = ODConv2d(8, 8, 3, padding=1)
    model = _randomise_bns(nn.Sequential(
        nn.Sequential(conv, nn.BatchNorm2d(8)),
        nn.Sequential(conv, nn.BatchNorm2d(8)))).eval()
    x = torch.randn(2, 8, 7, 7)
    expected = model(x)
    lines = []
    monkeypatch.setattr(deploy, 'log', lambda msg, *a: lines.append(msg))
    fuse_odconv_bn(model)
    assert isinstance(model[0][1], nn.BatchNorm2d)
    assert isinstance(model[1][1], nn.BatchNorm2d)
    assert conv.bias is None
    assert '0.1' in lines[0] and '1.1' in lines[0]
    torch.testing.assert_close(model(x), expected)
