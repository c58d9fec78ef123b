"""Attention norms, batch size 1, autocast, and fuzzing against the
naive reference."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmdet_odconv import IMPLS, ODConv2d
from tests.reference import assert_matches_reference

NORMS = [
    dict(type='BN'),
    dict(type='GN', num_groups=4),
    dict(type='LN'),
    None,
]


@pytest.mark.parametrize('norm', NORMS, ids=lambda n: str(n and n['type']))
@pytest.mark.parametrize('batch', [1, 3])
def test_every_attention_norm_trains_and_batch_one_works(norm, batch):
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=8,
                     attention_norm_cfg=norm).train()
    x = torch.randn(batch, 8, 6, 6)
    out = layer(x)
    out.square().mean().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    expected = {'BN': nn.BatchNorm2d, 'GN': nn.GroupNorm,
                'LN': nn.LayerNorm, None: nn.Identity}
    assert type(layer.attention.bn) is expected[norm and norm['type']]


@pytest.mark.parametrize('norm', NORMS[1:], ids=lambda n: str(n and n['type']))
def test_sample_independent_norms_do_not_mix_samples_in_training(norm):
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=8,
                     attention_norm_cfg=norm).train()
    x = torch.randn(3, 8, 6, 6)
    full = layer(x)
    torch.testing.assert_close(layer(x[1:2]), full[1:2])


def test_layer_norm_normalises_over_channels():
    layer = ODConv2d(8, 16, 3, min_channel=8,
                     attention_norm_cfg=dict(type='LN'))
    s = torch.randn(2, 8)
    out = layer.attention._norm(s)
    torch.testing.assert_close(out.mean(1), torch.zeros(2),
                               atol=1e-5, rtol=0)


def test_syncbn_converts_like_other_bns():
    model = nn.Sequential(ODConv2d(8, 16, 3), nn.BatchNorm2d(16))
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(copy.deepcopy(model))
    assert isinstance(synced[0].attention.bn, nn.SyncBatchNorm)
    from mmengine.model import revert_sync_batchnorm
    back = revert_sync_batchnorm(synced)
    assert isinstance(back[0].attention.bn, nn.modules.batchnorm._BatchNorm)
    assert not isinstance(back[0].attention.bn, nn.SyncBatchNorm)
    built = ODConv2d(8, 16, 3, attention_norm_cfg=dict(type='SyncBN'))
    assert isinstance(built.attention.bn, nn.SyncBatchNorm)


def test_bn1d_attention_norm_equals_bn2d():
    torch.manual_seed(0)
    bn2d = ODConv2d(8, 16, 3, padding=1, min_channel=8)
    bn1d = ODConv2d(8, 16, 3, padding=1, min_channel=8,
                    attention_norm_cfg=dict(type='BN1d'))
    bn1d.load_state_dict(bn2d.state_dict())
    x = torch.randn(3, 8, 6, 6)
    for mode in (True, False):
        torch.testing.assert_close(bn1d.train(mode)(x), bn2d.train(mode)(x))
        torch.testing.assert_close(bn1d(x[:1]), bn2d(x[:1]))


@pytest.mark.parametrize('norm', ['IN', 'BN3d'])
def test_norms_over_positions_are_refused_with_the_alternatives(norm):
    with pytest.raises(ValueError, match='use BN .*SyncBN, GN, LN or None'):
        ODConv2d(8, 16, 3, attention_norm_cfg=dict(type=norm))


@pytest.mark.parametrize('world', [False, True])
def test_syncbn_batch_one_uses_the_module_only_across_processes(
        monkeypatch, world):
    """One sample per process: a SyncBN spanning processes normalises with
    the global batch (its module); alone, the running statistics."""
    from mmdet_odconv.layers import attention
    layer = ODConv2d(8, 16, 3, min_channel=8,
                     attention_norm_cfg=dict(type='SyncBN')).train()
    calls = []
    monkeypatch.setattr(attention, '_synced_across_processes',
                        lambda bn: world)
    monkeypatch.setattr(type(layer.attention), '_norm_module',
                        lambda self, s: calls.append(s.shape) or s)
    layer(torch.randn(1, 8, 6, 6))
    assert calls == ([torch.Size([1, 8])] if world else [])


def _missing_cpu_kernel(dtype: torch.dtype):
    """The conv or BN kernel this torch lacks for ``dtype`` on the CPU, or
    None (torch 2.1 has no float16 ``conv2d`` or ``batch_norm`` there)."""
    x = torch.ones(2, 2, 3, 3, dtype=dtype)
    probes = dict(
        conv2d=lambda: F.conv2d(x, torch.ones(2, 2, 1, 1, dtype=dtype)),
        batch_norm=lambda: F.batch_norm(x, None, None, training=True))
    for name, probe in probes.items():
        try:
            probe()
        except RuntimeError as e:
            return f'{name} ({e})'
    return None


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('mode', ['eval', 'train'])
def test_half_precision_model_runs_with_float32_attentions(dtype, mode):
    """model.half() / .bfloat16(): attentions in float32, output in the
    model's dtype, close to the float32 model."""
    missing = _missing_cpu_kernel(dtype)
    if missing:
        pytest.skip(f'torch {torch.__version__} has no {dtype} CPU kernel '
                    f'for {missing}, so no {dtype} model runs on the CPU')
    torch.manual_seed(0)
    layer = ODConv2d(16, 32, 3, padding=1).train(mode == 'train')
    layer.attention.bn.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 16, 8, 8).to(dtype)
    low = copy.deepcopy(layer).to(dtype)
    # float32 on the same (rounded) weights and input: only the arithmetic
    # differs
    ref = copy.deepcopy(low).float()(x.float())
    att = low.attention(x)
    assert all(a is None or a.dtype == torch.float32 for a in att)
    out = low(x)
    assert out.dtype == dtype
    err = (out.float() - ref).abs().max() / ref.abs().max()
    assert err < 3e-2, err
    if mode == 'train':
        out.float().sum().backward()
        assert low.weight.grad.dtype == dtype
        assert torch.isfinite(low.attention.fc.weight.grad).all()


def test_mmcv_fuse_conv_bn_keeps_the_output():
    """MMCV's fuse_conv_bn (MMDetection's --fuse-conv-bn) folds the
    attention's BN into its FC, which then carries a bias."""
    from mmcv.cnn import fuse_conv_bn
    from tests.reference import naive_odconv
    torch.manual_seed(0)
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=8).eval()
    bn = layer.attention.bn
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2)
    bn.weight.data.uniform_(0.5, 2)
    bn.bias.data.normal_()
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        ref = layer(x)
        fused = fuse_conv_bn(copy.deepcopy(layer))
        assert isinstance(fused.attention.bn, nn.Identity)
        assert fused.attention.fc.bias is not None
        torch.testing.assert_close(fused(x), ref, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(naive_odconv(fused, x), ref,
                                   rtol=1e-5, atol=1e-5)


def test_pre_2_4_autocast_api_gives_the_same_answers(monkeypatch):
    """torch < 2.4 has only per-device autocast queries; the shims used
    there agree with the new API and the layer runs on them."""
    from mmdet_odconv.layers import _compat, attention, formulations
    for enabled in (False, True):
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=enabled):
            assert _compat._legacy_autocast_enabled('cpu') == enabled
            # the query the layer uses on this torch (device-generic since
            # torch 2.4; before, torch.is_autocast_enabled takes no device)
            assert _compat._legacy_autocast_enabled('cpu') == \
                _compat.autocast_enabled('cpu')
            if enabled:
                assert _compat._legacy_autocast_dtype('cpu') == \
                    torch.bfloat16 == _compat.autocast_dtype('cpu')
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=8).eval()
    x = torch.randn(2, 8, 6, 6)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        new = layer(x)
        for module in (attention, formulations):
            monkeypatch.setattr(module, 'autocast_enabled',
                                _compat._legacy_autocast_enabled)
        monkeypatch.setattr(formulations, 'autocast_dtype',
                            _compat._legacy_autocast_dtype)
        old = layer(x)
    assert old.dtype == new.dtype == torch.bfloat16
    torch.testing.assert_close(old, new)


@pytest.mark.parametrize('impl', ['auto', 'loop', 'matmul', 'grouped'])
@pytest.mark.parametrize('k', [1, 3])
def test_bf16_autocast_close_to_fp32_attention_in_fp32(impl, k):
    if impl == 'matmul' and k > 1:
        pytest.skip('matmul computes 1x1 convs only')
    torch.manual_seed(0)
    layer = ODConv2d(16, 32, k, padding=k // 2, impl=impl).eval()
    x = torch.randn(2, 16, 12, 12)
    ref = layer(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        att = layer.attention(x)
        out = layer(x)
    assert all(a is None or a.dtype == torch.float32 for a in att)
    assert out.dtype == torch.bfloat16
    err = (out.float() - ref).abs().max() / ref.abs().max()
    assert err < 2e-2, err
    with torch.autocast('cpu', dtype=torch.bfloat16):
        layer.train()
        layer(x).float().sum().backward()
    assert torch.isfinite(layer.weight.grad).all()


@pytest.mark.parametrize('grad', [False, True])
def test_autocast_aggregates_the_bank_in_float32(grad):
    """Under bf16 autocast the per-sample kernels are the float32 ones (the
    conv casts them once); autocast must not round the bank in the
    aggregation matmul."""
    torch.manual_seed(0)
    layer = ODConv2d(16, 32, 3, padding=1, kernel_num=4)
    x = torch.randn(3, 16, 8, 8)
    att = layer.attention(x)
    with torch.set_grad_enabled(grad):
        ref = layer.sample_kernels(*att, fold=True)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = layer.sample_kernels(*att, fold=True)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, ref, rtol=0, atol=0)


@pytest.mark.parametrize('chunked', [False, True])
def test_torch_compile_matches_eager(chunked):
    """One graph (fullgraph=True: no break in the layer), batch chunks too."""
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=4).eval()
    if chunked:
        per_sample = layer.weight[0].numel() * 4
        layer.kernel_bytes = {'cpu': 2 * per_sample}  # chunks of 2 samples
    x = torch.randn(3, 8, 10, 10)
    compiled = torch.compile(layer, backend='aot_eager', fullgraph=True)
    torch.testing.assert_close(compiled(x), layer(x), rtol=1e-5, atol=1e-5)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(1, 7),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    groups=st.sampled_from([1, 2, 4]),
    c_in_mult=st.integers(1, 3),
    c_out_mult=st.integers(1, 3),
    n=st.integers(1, 4),
    batch=st.integers(1, 3),
    size=st.integers(7, 13),
    padding=st.integers(0, 3),
    training=st.booleans(),
    impl=st.sampled_from([i for i in IMPLS if i != 'static']),
)
def test_fuzz_against_naive_reference(k, stride, dilation, groups, c_in_mult,
                                      c_out_mult, n, batch, size, padding,
                                      training, impl):
    c_in, c_out = groups * c_in_mult, groups * c_out_mult
    if (size + 2 * padding - dilation * (k - 1) - 1) < 0:
        return  # output would be empty; nn.Conv2d rejects it too
    torch.manual_seed(k * 7 + n)
    args = (c_in, c_out, k, stride, padding, dilation, groups)
    if impl not in ('auto', ) + ODConv2d(*args,
                                          kernel_num=n).applicable_impls():
        with pytest.raises(ValueError, match=f'impl={impl!r} cannot'):
            ODConv2d(*args, kernel_num=n, impl=impl)
        return
    layer = ODConv2d(*args, kernel_num=n, min_channel=3, impl=impl)
    layer.train(training)
    x = torch.randn(batch, c_in, size, size + 1, requires_grad=True)
    assert_matches_reference(layer, x, training)


@pytest.mark.parametrize('impl', ['auto', 'grouped', 'loop', 'unfold'])
@pytest.mark.parametrize('batch', [1, 3])
def test_channels_last_input_gives_the_same_result(impl, batch):
    """A channels_last (NHWC) input, as in a channels_last model, computes
    the same outputs and input gradients as a contiguous one."""
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=4, impl=impl)
    x = torch.randn(batch, 8, 9, 7)
    x_cl = x.to(memory_format=torch.channels_last).requires_grad_(True)
    x = x.requires_grad_(True)
    out, out_cl = layer(x), layer(x_cl)
    torch.testing.assert_close(out_cl, out, rtol=1e-5, atol=1e-5)
    grad = torch.randn_like(out)
    out.backward(grad)
    out_cl.backward(grad)
    torch.testing.assert_close(x_cl.grad, x.grad, rtol=1e-5, atol=1e-5)
