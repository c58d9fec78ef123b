"""benchmarks/reference_odconv.py: the official formulation that the layer
benchmark times ours against must compute what ``ODConv2d`` computes."""
import pytest
import torch

from benchmarks.reference_odconv import FoldedODConv2d
from mmdet_odconv import ODConv2d

# C_in, C_out, k, stride, groups, kernel_num, batch
GEOMETRIES = [(16, 32, 3, 1, 1, 4, 3), (16, 32, 3, 2, 1, 1, 2),
              (32, 16, 1, 1, 1, 4, 3), (32, 16, 1, 1, 1, 1, 2),
              (16, 16, 3, 1, 16, 4, 2), (16, 32, 3, 1, 4, 4, 1)]


def perturbed(c_in: int, c_out: int, k: int, stride: int, groups: int,
              n: int) -> ODConv2d:
    """A layer with non-trivial attentions, BN statistics and temperature
    (at init the attentions are nearly constant)."""
    layer = ODConv2d(c_in, c_out, k, stride, k // 2, 1, groups, kernel_num=n)
    with torch.no_grad():
        for p in layer.attention.parameters():
            p.add_(torch.randn_like(p) * 0.3)
        layer.attention.bn.running_mean.normal_()
        layer.attention.bn.running_var.uniform_(0.5, 2.0)
    layer.set_temperature(2.0)
    return layer


@pytest.mark.parametrize('geometry', GEOMETRIES)
def test_reference_matches_every_formulation_in_eval(geometry):
    *args, batch = geometry
    layer = perturbed(*args).eval()
    x = torch.randn(batch, args[0], 9, 11)
    impls = ('auto', ) + layer.applicable_impls()
    assert len(impls) > 1
    for impl in impls:
        layer.impl = impl
        ref = FoldedODConv2d.from_odconv(layer)
        assert not ref.training
        with torch.no_grad():
            torch.testing.assert_close(ref(x), layer(x), atol=1e-4, rtol=0)


@pytest.mark.parametrize('geometry', GEOMETRIES)
def test_reference_matches_in_training_with_gradients(geometry):
    """Batch statistics (running ones for one sample), outputs and the
    gradients of input and kernel bank."""
    *args, batch = geometry
    layer = perturbed(*args).train()
    ref = FoldedODConv2d.from_odconv(layer)
    x = torch.randn(batch, args[0], 9, 11)
    grads = []
    for module in (layer, ref):
        xg = x.clone().requires_grad_(True)
        out = module(xg)
        out.backward(torch.ones_like(out))
        grads.append((out, xg.grad, module.weight.grad))
    for ours, theirs in zip(*grads):
        torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=1e-4)
