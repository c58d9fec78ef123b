"""ODConvDiagnosticsHook: attention statistics and gradient norms.

Expected values come from attentions forced to known values (zeroed head
weights and chosen biases) and from gradients computed separately with
``torch.autograd.grad``.
"""
import json
import math
import os
import tempfile
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS

from mmdet_odconv import ODConv2d
from mmdet_odconv.engine import ODConvDiagnosticsHook
from mmdet_odconv.engine.hooks.diagnostics_hook import stage_of


class _Net(BaseModel):
    """Two stages of ODConv layers: 3x3, 1x1 (no spatial head) and a
    depthwise 3x3 (no filter head)."""

    def __init__(self) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(
            ODConv2d(4, 8, 3, padding=1, min_channel=4),
            ODConv2d(8, 8, 1, min_channel=4))
        self.stage2 = nn.Sequential(
            ODConv2d(8, 8, 3, padding=1, groups=8, min_channel=4))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(inputs)
        y = self.stage2(self.stage1(inputs))
        return dict(loss=y.pow(2).mean()) if mode == 'loss' else y


def _force(layer: ODConv2d,
           sigmoid_bias: float = 0.0,
           kernel_bias=None) -> None:
    """Zero every head's weight so its attention is set by its bias."""
    att = layer.attention
    with torch.no_grad():
        for name in att.sigmoid_heads:
            att._modules[name].weight.zero_()
            att._modules[name].bias.fill_(sigmoid_bias)
        if kernel_bias is not None:
            att.kernel_fc.weight.zero_()
            att.kernel_fc.bias.copy_(torch.tensor(kernel_bias))


def _runner(model, it=0, lr=0.0):
    return SimpleNamespace(
        model=model,
        iter=it,
        message_hub=MessageHub(f'diag-test-{id(model)}-{it}'),
        optim_wrapper=OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr)),
        logger=None)


def _train_iter(hook, runner, x):
    """What MMEngine's loop does around one train step."""
    hook.before_train_iter(runner, 0)
    model = runner.model
    loss = model(x, mode='loss')['loss']
    runner.optim_wrapper.update_params(loss)
    hook.after_train_iter(runner, 0)


def _scalars(runner, prefix='train/odconv/'):
    return {
        k[len(prefix):]: v.current()
        for k, v in runner.message_hub.log_scalars.items()
        if k.startswith(prefix)
    }


def test_saturated_sigmoids_and_one_hot_kernels():
    model = _Net().train()
    for m in model.modules():
        if isinstance(m, ODConv2d):
            _force(m, sigmoid_bias=20.0, kernel_bias=[0.0, 60.0, 0.0, 0.0])
    runner = _runner(model)
    _train_iter(
        ODConvDiagnosticsHook(interval=1), runner, torch.randn(2, 4, 6, 6))
    s = _scalars(runner)
    for layer in ('stage1.0', 'stage1.1', 'stage2.0'):
        assert s[f'{layer}/channel_sat'] == 1.0
        assert s[f'{layer}/channel_mean'] == pytest.approx(1.0)
        assert s[f'{layer}/kernel_entropy'] == pytest.approx(0.0, abs=1e-6)
        assert s[f'{layer}/kernel_max_prob'] == pytest.approx(1.0)
    # absent heads give no scalar: no spatial head on the 1x1 conv, no
    # filter head on the depthwise one
    assert 'stage1.1/spatial_sat' not in s and 'stage1.0/spatial_sat' in s
    assert 'stage2.0/filter_sat' not in s and 'stage1.0/filter_sat' in s


def test_each_head_read_by_its_name_in_an_attention_subset():
    """A layer built with two of the four attentions: each statistic comes
    from the head it names (filter saturated high, kernel one-hot) and the
    left-out heads give no scalar."""
    model = nn.Sequential(
        ODConv2d(4, 8, 3, padding=1, min_channel=4,
                 attentions=('filter', 'kernel')))
    layer = model[0]
    assert layer.attention.sigmoid_heads == ('filter_fc',)
    _force(layer, sigmoid_bias=20.0, kernel_bias=[0.0, 0.0, 60.0, 0.0])
    runner = _runner(model)
    hook = ODConvDiagnosticsHook(interval=1, layers='model')
    hook.before_train_iter(runner, 0)
    loss = model(torch.randn(2, 4, 6, 6)).pow(2).mean()
    runner.optim_wrapper.update_params(loss)
    hook.after_train_iter(runner, 0)
    s = _scalars(runner)
    assert s['model/filter_sat'] == 1.0
    assert s['model/filter_mean'] == pytest.approx(1.0)
    assert s['model/kernel_max_prob'] == pytest.approx(1.0)
    assert not any(k.startswith(('model/channel', 'model/spatial'))
                   for k in s)


def test_neutral_attentions_and_thresholds():
    """Zeroed heads: every sigmoid is 0.5 and the softmax is uniform."""
    model = _Net().train()
    for m in model.modules():
        if isinstance(m, ODConv2d):
            _force(m, sigmoid_bias=0.0, kernel_bias=[0.0] * 4)
    layer = model.stage1[0]
    with torch.no_grad():  # channel attention [1, 0, .5, .5] per sample
        layer.attention.channel_fc.bias.copy_(
            torch.tensor([20.0, -20.0, 0.0, 0.0]))
    runner = _runner(model)
    _train_iter(
        ODConvDiagnosticsHook(interval=1), runner, torch.randn(3, 4, 6, 6))
    s = _scalars(runner)
    assert s['stage1.0/channel_sat'] == pytest.approx(0.5)
    assert s['stage1.0/channel_mean'] == pytest.approx(0.5)
    assert s['stage1.0/spatial_sat'] == 0.0
    assert s['stage1.0/spatial_mean'] == pytest.approx(0.5)
    assert s['stage2.0/kernel_entropy'] == pytest.approx(1.0)
    assert s['stage2.0/kernel_max_prob'] == pytest.approx(0.25)
    # a low threshold above 0.5 counts every neutral value as saturated
    runner = _runner(model)
    _train_iter(
        ODConvDiagnosticsHook(interval=1, low=0.6, high=0.99), runner,
        torch.randn(3, 4, 6, 6))
    assert _scalars(runner)['stage1.1/channel_sat'] == 1.0


def test_gradient_norms_survive_the_optimizer_zeroing_them():
    """OptimWrapper.update_params zeroes the gradients after its step, so
    they are gone by after_train_iter; the hook reads them before."""
    model = _Net().train()
    x = torch.randn(2, 4, 6, 6)
    layers = {'stage1.0': model.stage1[0], 'stage2.0': model.stage2[0]}
    ref = {}
    loss = model(x, mode='loss')['loss']
    for name, layer in layers.items():
        params = [layer.weight] + list(layer.attention.parameters())
        grads = torch.autograd.grad(loss, params, retain_graph=True)
        ref[name] = (grads[0].norm().item(),
                     torch.cat([g.flatten() for g in grads[1:]]).norm().item())
    runner = _runner(model, lr=0.0)  # lr 0: the second forward is the same
    _train_iter(ODConvDiagnosticsHook(interval=1), runner, x)
    assert all(p.grad is None for p in model.parameters())
    s = _scalars(runner)
    for name, (weight_norm, attention_norm) in ref.items():
        assert weight_norm > 0 and attention_norm > 0
        assert s[f'{name}/weight_grad'] == pytest.approx(weight_norm, rel=1e-4)
        assert s[f'{name}/attention_grad'] == pytest.approx(
            attention_norm, rel=1e-4)


def test_gradients_without_an_optimizer_step():
    """Gradient accumulation: no step this iteration, .grad still holds
    the gradients in after_train_iter."""
    model = _Net().train()
    runner = _runner(model)
    runner.optim_wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.0), accumulative_counts=2)
    x = torch.randn(2, 4, 6, 6)
    hook = ODConvDiagnosticsHook(interval=1)
    hook.before_train_iter(runner, 0)
    runner.optim_wrapper.initialize_count_status(model, 0, 2)
    runner.optim_wrapper.update_params(model(x, mode='loss')['loss'])
    grad = model.stage1[0].weight.grad
    assert grad is not None  # no step, no zeroing
    hook.after_train_iter(runner, 0)
    assert _scalars(runner)['stage1.0/weight_grad'] == pytest.approx(
        grad.norm().item(), rel=1e-5)


def test_nothing_attached_between_records():
    model = _Net().train()
    runner = _runner(model)
    hook = ODConvDiagnosticsHook(interval=3)
    attentions = [
        m.attention for m in model.modules() if isinstance(m, ODConv2d)
    ]
    optimizer = runner.optim_wrapper.optimizer
    for it in range(6):
        runner.iter = it
        hook.before_train_iter(runner, it)
        attached = any(a._forward_hooks for a in attentions)
        assert attached == (it in (2, 5))
        assert bool(optimizer._optimizer_step_pre_hooks) == attached
        loss = model(torch.randn(2, 4, 6, 6), mode='loss')['loss']
        runner.optim_wrapper.update_params(loss)
        hook.after_train_iter(runner, it)
        assert not any(a._forward_hooks for a in attentions)
        assert not optimizer._optimizer_step_pre_hooks
        recorded = runner.message_hub.log_scalars.get(
            'train/odconv/stage1.0/channel_mean')
        assert (recorded is None) == (it < 2)
    assert len(recorded.data[0]) == 2  # iterations 2 and 5


def test_stage_and_model_groups_pool_their_layers():
    """Groups pool values, not per-layer results: stage1 has 4 neutral and
    8 saturated channel values per sample (12), stage2 8 neutral ones."""
    model = _Net().train()
    _force(model.stage1[0], sigmoid_bias=0.0, kernel_bias=[0.0] * 4)
    _force(model.stage1[1], sigmoid_bias=20.0, kernel_bias=[0.0] * 4)
    _force(model.stage2[0], sigmoid_bias=0.0, kernel_bias=[0.0] * 4)
    x = torch.randn(2, 4, 6, 6)
    loss = model(x, mode='loss')['loss']
    banks = [
        m.weight for m in model.stage1.modules() if isinstance(m, ODConv2d)
    ]
    ref = torch.cat([g.flatten()
                     for g in torch.autograd.grad(loss, banks)]).norm()

    runner = _runner(model)
    _train_iter(ODConvDiagnosticsHook(interval=1, layers='stage'), runner, x)
    s = _scalars(runner)
    assert {k.split('/')[0] for k in s} == {'stage1', 'stage2'}
    assert s['stage1/channel_sat'] == pytest.approx(8 / 12)
    assert s['stage1/channel_mean'] == pytest.approx((2 + 8) / 12)
    assert s['stage1/weight_grad'] == pytest.approx(ref.item(), rel=1e-4)

    runner = _runner(model)
    _train_iter(ODConvDiagnosticsHook(interval=1, layers='model'), runner, x)
    s = _scalars(runner)
    assert {k.split('/')[0] for k in s} == {'model'}
    assert s['model/channel_sat'] == pytest.approx(8 / 20)
    assert s['model/channel_mean'] == pytest.approx((2 + 8 + 4) / 20)


def test_stage_names():
    assert stage_of('backbone.layer2.0.conv1') == 'backbone.layer2'
    assert stage_of('backbone.stage3.1.blocks.0.conv1.conv') == \
        'backbone.stage3'
    assert stage_of('neck.fpn_convs.2.conv') == 'neck.fpn_convs'
    assert stage_of('backbone.conv2.conv') == 'backbone.conv2'
    assert stage_of('0') == '0'


@pytest.mark.parametrize('kwargs, match', [
    (dict(interval=0), 'interval must be an int >= 1'),
    (dict(interval=2.5), 'interval must be an int >= 1'),
    (dict(layers='layer'), 'layers must be one of'),
    (dict(low=0.5, high=0.5), 'thresholds must satisfy'),
    (dict(high=1.5), 'thresholds must satisfy'),
])
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ODConvDiagnosticsHook(**kwargs)


def test_ddp_wrapped_model():
    with tempfile.TemporaryDirectory() as tmp:
        dist.init_process_group(
            'gloo',
            init_method=f'file://{os.path.join(tmp, "init")}',
            rank=0,
            world_size=1)
        try:
            model = _Net().train()
            wrapped = MMDistributedDataParallel(module=model)
            runner = _runner(model)
            runner.model = wrapped
            hook = ODConvDiagnosticsHook(interval=1)
            hook.before_train_iter(runner, 0)
            loss = wrapped(torch.randn(2, 4, 6, 6), mode='loss')['loss']
            runner.optim_wrapper.update_params(loss)
            hook.after_train_iter(runner, 0)
        finally:
            dist.destroy_process_group()
    s = _scalars(runner)
    assert s['stage1.0/weight_grad'] > 0  # names of the unwrapped model
    assert 0 < s['stage1.0/channel_mean'] < 1


def _ddp_worker(rank: int, init_file: str, results) -> None:
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=2)
    torch.manual_seed(0)  # same weights on both ranks
    model = _Net().train()
    wrapped = MMDistributedDataParallel(module=model)
    torch.manual_seed(1 + rank)  # different data
    x = torch.randn(2, 4, 6, 6)
    loss = model(x, mode='loss')['loss']
    local = torch.autograd.grad(loss, [model.stage1[0].weight])[0].norm()
    runner = _runner(model)
    runner.model = wrapped
    _train_iter(ODConvDiagnosticsHook(interval=1), runner, x)
    results[rank] = (local.item(), _scalars(runner)['stage1.0/weight_grad'])
    dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_gradient_norms_are_those_after_all_reduce():
    """Two ranks, different data: the logged norm is the averaged
    gradient's, the same on both ranks, not the local one."""
    with tempfile.TemporaryDirectory() as tmp:
        results = mp.Manager().dict()
        mp.spawn(
            _ddp_worker,
            args=(os.path.join(tmp, 'init'), results),
            nprocs=2,
            join=True)
    (local0, logged0), (local1, logged1) = results[0], results[1]
    assert logged0 == pytest.approx(logged1, rel=1e-6)
    assert logged0 != pytest.approx(local0, rel=1e-3)
    assert logged0 <= (local0 + local1) / 2 * (1 + 1e-6)  # triangle


def test_runner_logs_the_scalars(tmp_path):
    """In a real MMEngine Runner, LoggerHook passes the scalars on to the
    visualizer backends (scalars.json of LocalVisBackend)."""
    from mmengine.runner import Runner
    assert HOOKS.get('ODConvDiagnosticsHook') is ODConvDiagnosticsHook
    data = [dict(inputs=torch.randn(4, 6, 6)) for _ in range(4)]
    loader = torch.utils.data.DataLoader(
        data,
        batch_size=2,
        collate_fn=lambda b: dict(inputs=[d['inputs'] for d in b]))
    runner = Runner(
        model=_Net(),
        work_dir=str(tmp_path),
        experiment_name=f'diagnostics-{id(tmp_path)}',
        train_dataloader=loader,
        train_cfg=dict(by_epoch=False, max_iters=4),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=2), checkpoint=None),
        log_processor=dict(by_epoch=False),
        custom_hooks=[
            dict(type='ODConvDiagnosticsHook', interval=2, layers='stage')
        ],
        default_scope='mmengine')
    runner.train()
    files = list(tmp_path.rglob('scalars.json'))
    assert len(files) == 1
    records = [json.loads(line) for line in files[0].read_text().splitlines()]
    logged = [r for r in records if 'odconv/stage1/kernel_entropy' in r]
    assert [r['iter'] for r in logged] == [2, 4]
    for r in logged:
        assert 0 < r['odconv/stage1/kernel_entropy'] <= 1
        assert 0.25 <= r['odconv/stage1/kernel_max_prob'] < 1
        assert 0 <= r['odconv/stage2/channel_sat'] <= 1
        assert r['odconv/stage2/weight_grad'] > 0
        assert not math.isnan(r['odconv/stage1/attention_grad'])


def test_exported_and_registered_at_import():
    """``import mmdet_odconv`` exports the hook, as the temperature hook,
    and registers it for ``custom_hooks=[dict(type=...)]``."""
    import mmdet_odconv
    assert 'ODConvDiagnosticsHook' in mmdet_odconv.__all__
    assert mmdet_odconv.ODConvDiagnosticsHook is ODConvDiagnosticsHook
    hook = HOOKS.build(dict(type='ODConvDiagnosticsHook', interval=3))
    assert isinstance(hook, ODConvDiagnosticsHook) and hook.interval == 3
