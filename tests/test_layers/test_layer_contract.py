"""What nn.Conv2d users rely on: empty batches under DDP, tracing, string
padding, channels_last models, temperature values, forced formulations."""
import ast
import inspect
import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

from mmdet_odconv import FORMULATIONS, ODConv2d, set_temperature
from mmdet_odconv.layers import formulations
from tests.reference import naive_odconv


def _params_without_grad(module: nn.Module) -> list:
    return [n for n, p in module.named_parameters() if p.grad is None]


@pytest.mark.parametrize('kernel_num, k', [(4, 3), (1, 1), (1, 3)])
def test_empty_batch_gives_every_parameter_a_zero_gradient(kernel_num, k):
    layer = ODConv2d(8, 16, k, padding=k // 2, kernel_num=kernel_num,
                     bias=True).train()
    conv = nn.Conv2d(8, 16, k, padding=k // 2)
    for m in (layer, conv):
        m(torch.randn(0, 8, 7, 7)).sum().backward()
    assert _params_without_grad(conv) == []  # what nn.Conv2d does
    assert _params_without_grad(layer) == []
    assert all(not p.grad.any() for p in layer.parameters())


def _ddp_worker(rank: int, init_file: str, results) -> None:
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(
        ODConv2d(4, 8, 3, padding=1, min_channel=4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for batch in (0, 2, 2):  # an empty batch, then ordinary ones
        opt.zero_grad()
        model(torch.randn(batch, 4, 6, 6)).sum().backward()
        opt.step()
    results[rank] = model.module.weight.detach().clone()
    dist.destroy_process_group()


def test_ddp_survives_an_empty_batch_without_find_unused_parameters():
    """Without a (zero) gradient for every parameter at B = 0, DDP fails on
    the next step ('Expected to have finished reduction')."""
    with tempfile.TemporaryDirectory() as tmp:
        results = mp.Manager().dict()
        mp.spawn(_ddp_worker, args=(os.path.join(tmp, 'init'), results),
                 nprocs=2, join=True)
    torch.testing.assert_close(results[0], results[1])


@pytest.mark.parametrize('grad', [True, False])
@pytest.mark.parametrize('impl', ['auto', 'loop', 'grouped', 'unfold'])
def test_jit_trace_passes_its_own_check(impl, grad):
    """torch.jit.trace with its default check_trace, as for nn.Conv2d; the
    graph must not depend on the grad mode (no in-place ops while
    tracing)."""
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=4, impl=impl).eval()
    x = torch.randn(2, 8, 7, 7)
    with torch.set_grad_enabled(grad):
        traced = torch.jit.trace(layer, x)
    y = torch.randn(2, 8, 7, 7)
    torch.testing.assert_close(traced(y), layer(y))
    torch.testing.assert_close(traced(y), naive_odconv(layer, y), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize('padding, k, d', [('same', 3, 1), ('same', 5, 2),
                                           ('same', 1, 1), ('valid', 3, 1)])
def test_string_padding_as_nn_conv2d(padding, k, d):
    layer = ODConv2d(8, 16, k, padding=padding, dilation=d, kernel_num=1,
                     min_channel=4).eval()
    conv = nn.Conv2d(8, 16, k, padding=padding, dilation=d)
    x = torch.randn(2, 8, 11, 9)
    assert layer(x).shape == conv(x).shape
    torch.testing.assert_close(layer(x), naive_odconv(layer, x))


@pytest.mark.parametrize('kwargs, match', [
    (dict(padding='same', stride=2), "padding='same' needs stride 1"),
    (dict(padding='same', kernel_size=2), 'even effective kernel'),
    (dict(padding='full'), "'valid' or 'same'"),
    (dict(padding=-1), 'padding must be ints >= 0'),
    (dict(stride=0), 'stride must be positive ints'),
    (dict(dilation=(1, 0)), 'dilation must be positive ints'),
])
def test_bad_geometry_is_refused_at_construction(kwargs, match):
    args = dict(in_channels=8, out_channels=16, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ODConv2d(**args)


def test_channels_last_model_conversion():
    """model.to(memory_format=torch.channels_last) converts every 4-D
    tensor (the 5-D bank stays as it is) and the model computes the same."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        ODConv2d(8, 16, 3, padding=1, min_channel=4),
        ODConv2d(16, 16, 1, kernel_num=1)).eval()
    x = torch.randn(2, 3, 9, 9)
    ref = model(x)
    model.to(memory_format=torch.channels_last)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert model[3].attention.fc.weight.is_contiguous(
        memory_format=torch.channels_last)
    assert model[3].weight.shape == (4, 16, 8, 3, 3)
    out = model(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    out.sum().backward()
    # other conversions still reach the bank
    model.double()
    assert model[3].weight.dtype == torch.float64


@pytest.mark.parametrize(
    'value', [torch.tensor([1.0, 2.0]), 'warm', None, True,
              float('inf'), float('nan'), -1, 0.0, [2.0]])
def test_bad_temperatures_are_refused_everywhere(value):
    layer = ODConv2d(8, 16, 3, min_channel=4)
    for call in (layer.set_temperature,
                 lambda v: set_temperature(nn.Sequential(layer), v),
                 lambda v: ODConv2d(8, 16, 3, temperature=v)):
        with pytest.raises(ValueError, match='temperature must be > 0'):
            call(value)
    assert layer.temperature == 1.0  # nothing half-applied


@pytest.mark.parametrize('value', [2, 0.5, torch.tensor(3.0)])
def test_temperature_takes_any_real_number(value):
    layer = ODConv2d(8, 16, 3, min_channel=4)
    layer.set_temperature(value)
    assert layer.temperature == float(value)
    assert isinstance(layer.temperature, float)


def test_formulation_table_says_where_each_applies():
    plain_1x1 = ODConv2d(8, 16, 1, kernel_num=4)
    static = ODConv2d(8, 16, 1, kernel_num=1)
    padded_1x1 = ODConv2d(8, 16, 1, padding=1, kernel_num=1)
    k3 = ODConv2d(8, 16, 3, kernel_num=1)
    anywhere = ('loop', 'grouped', 'unfold')
    assert set(plain_1x1.applicable_impls()) == {'matmul', *anywhere}
    assert set(static.applicable_impls()) == {'static', 'matmul', *anywhere}
    assert set(padded_1x1.applicable_impls()) == {'static', *anywhere}
    assert set(k3.applicable_impls()) == set(anywhere)
    assert static.static_kernel and not k3.static_kernel
    for name, f in FORMULATIONS.items():
        assert callable(f.compute) and f.applies(k3.geometry) == (
            not f.needs), name
    # 'auto' picks one that applies, by batch size alone
    assert k3.choose_impl(1) == 'loop' and k3.choose_impl(4) == 'grouped'
    assert plain_1x1.choose_impl(3) == 'matmul'
    assert padded_1x1.choose_impl(3) == 'static'


def test_forced_formulation_is_refused_when_set_later():
    layer = ODConv2d(8, 16, 3, padding=1)
    with pytest.raises(ValueError, match="impl='matmul' cannot compute"):
        layer.impl = 'matmul'
    assert layer.impl == 'auto'
    layer.impl = 'unfold'
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(layer(x), naive_odconv(layer, x), rtol=1e-4,
                               atol=1e-4)


def test_padded_1x1_static_layer_matches_reference():
    layer = ODConv2d(8, 16, 1, padding=1, kernel_num=1, min_channel=4,
                     impl='static').train()
    x = torch.randn(3, 8, 5, 5)
    ref = F.pad(x, (1, 1, 1, 1))
    assert layer(x).shape[-2:] == ref.shape[-2:]
    torch.testing.assert_close(layer(x), naive_odconv(layer, x, True),
                               rtol=1e-4, atol=1e-4)


def test_formulations_do_not_import_the_layer():
    """Data flows one way, layer -> formulation: the formulations module
    imports nothing of the layer's."""
    tree = ast.parse(inspect.getsource(formulations))
    imported = {n.module for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom)}
    assert 'odconv' not in imported and 'convert' not in imported


@pytest.mark.parametrize('k, n', [(3, 4), (1, 4), (1, 1)])
def test_each_formulation_computes_from_its_inputs_alone(k, n):
    """A formulation gets the input, the bank, the attentions and the
    geometry (no layer) and gives the reference output."""
    torch.manual_seed(0)
    layer = ODConv2d(8, 16, k, padding=k // 2, kernel_num=n,
                     min_channel=4).eval()
    x = torch.randn(3, 8, 7, 7)
    with torch.no_grad():
        att = layer.attention(x)
        assert att._fields == ('channel', 'filter', 'spatial', 'kernel')
        assert (att.spatial is None) == (k == 1)
        assert (att.kernel is None) == (n == 1)
        ref = naive_odconv(layer, x)
        for name in layer.applicable_impls():
            if name == 'static':
                continue  # needs the channel and filter attentions outside
            out = FORMULATIONS[name].compute(x, layer.weight, att,
                                             layer.geometry, None)
            torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4,
                                       msg=name)


def test_stride_padding_dilation_can_be_set_after_construction():
    """As on nn.Conv2d: the new values are checked and computed with; a
    forced formulation that no longer applies refuses the change."""
    layer = ODConv2d(8, 16, 3, min_channel=4).eval()
    layer.stride, layer.padding, layer.dilation = 2, 1, (1, 1)
    assert (layer.stride, layer.padding) == ((2, 2), (1, 1))
    x = torch.randn(2, 8, 9, 9)
    assert layer(x).shape == (2, 16, 5, 5)
    torch.testing.assert_close(layer(x), naive_odconv(layer, x), rtol=1e-4,
                               atol=1e-4)
    with pytest.raises(ValueError, match='stride must be positive ints'):
        layer.stride = 0
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        layer.padding = 'same'
    plain = ODConv2d(8, 16, 1, impl='matmul')
    with pytest.raises(ValueError, match="impl='matmul' cannot compute"):
        plain.padding = 1
    assert plain.padding == (0, 0)
    with pytest.raises(AttributeError):
        layer.groups = 2
