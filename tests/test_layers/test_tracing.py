"""A traced or exported model computes every sample right at every batch
size: ``impl='auto'`` picks a formulation whose graph does not depend on
the batch size while a graph is being recorded."""
import inspect
import warnings

import pytest
import torch
import torch.nn as nn

from mmdet_odconv import ODConv2d


# torch >= 2.5 also has a dynamo-based exporter (the default from 2.9); the
# classic one traces
_TORCHSCRIPT_EXPORTER = ({'dynamo': False} if 'dynamo' in inspect.signature(
    torch.onnx.export).parameters else {})


def _model() -> nn.Module:
    """Every 'auto' choice: grouped/loop (3x3, depthwise), matmul (1x1),
    static (one 1x1 kernel)."""
    torch.manual_seed(0)
    model = nn.Sequential(
        ODConv2d(8, 16, 3, padding=1, min_channel=4), nn.ReLU(),
        ODConv2d(16, 16, 3, padding=1, groups=16, min_channel=4),
        ODConv2d(16, 16, 1, min_channel=4),
        ODConv2d(16, 8, 1, kernel_num=1, min_channel=4),
        ODConv2d(8, 8, 3, stride=2, padding=1, groups=2,
                 min_channel=4)).eval()
    with torch.no_grad():  # attentions that differ clearly between samples
        for name, p in model.named_parameters():
            if '.attention.' in name:
                p.normal_(0, 1)
            else:
                p.mul_(4)
    return model


def _close(out, expected):
    """Equal up to float32 rounding, relative to the output's scale."""
    scale = expected.abs().max().item()
    assert scale > 0.1
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5 * scale)


def _per_sample(model, x):
    with torch.no_grad():
        return torch.cat([model(x[i:i + 1]) for i in range(x.size(0))])


@pytest.mark.parametrize('trace_batch', [1, 2])
def test_traced_model_is_right_at_every_batch_size(trace_batch):
    model = _model()
    x = torch.randn(3, 8, 9, 9)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch.jit's deprecation notice
        traced = torch.jit.trace(model, x[:trace_batch])
    expected = _per_sample(model, x)
    for batch in (1, 2, 3):
        _close(traced(x[:batch]), expected[:batch])
    # the layers still choose per call in eager mode
    assert model[0].choose_impl(1) == 'loop'
    assert model[0].choose_impl(3) == 'grouped'


def test_forced_batch_bound_formulation_warns_when_traced():
    layer = ODConv2d(8, 16, 3, padding=1, min_channel=4, impl='loop').eval()
    with pytest.warns(UserWarning, match="impl='loop'.*batch size"):
        torch.jit.trace(layer, torch.randn(1, 8, 5, 5))


@pytest.mark.parametrize('export_batch', [1, 2])
def test_plain_onnx_export_is_right_at_every_batch_size(tmp_path,
                                                       export_batch):
    """torch.onnx.export itself (not our export_onnx), with a dynamic
    batch axis, run by onnxruntime at other batch sizes."""
    pytest.importorskip('onnx', reason='needs onnx to export')
    ort = pytest.importorskip('onnxruntime',
                              reason='needs onnxruntime to run the graph')
    model = _model()
    x = torch.randn(3, 8, 9, 9)
    path = str(tmp_path / 'model.onnx')
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, (x[:export_batch], ), path,
                          input_names=['input'], output_names=['output'],
                          dynamic_axes={'input': {0: 'batch'},
                                        'output': {0: 'batch'}},
                          **_TORCHSCRIPT_EXPORTER)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    expected = _per_sample(model, x)
    for batch in (1, 3):
        out, = session.run(None, {'input': x[:batch].numpy()})
        _close(torch.from_numpy(out), expected[:batch])


def test_traced_model_takes_other_spatial_sizes():
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        traced = torch.jit.trace(model, torch.randn(1, 8, 9, 9))
    x = torch.randn(2, 8, 13, 11)
    _close(traced(x), _per_sample(model, x))


@pytest.mark.skipif(not hasattr(torch.compiler, 'is_exporting'),
                    reason='this torch cannot tell that torch.export runs')
def test_torch_export_with_a_dynamic_batch_is_right_at_every_batch_size():
    model = _model()
    x = torch.randn(3, 8, 9, 9)
    batch = torch.export.Dim('batch', min=1, max=1024)
    exported = torch.export.export(model, (x[:2], ),
                                   dynamic_shapes=({0: batch}, )).module()
    expected = _per_sample(model, x)
    for b in (1, 3):
        _close(exported(x[:b]), expected[:b])


def test_compiled_model_recompiles_for_another_batch_size():
    model = _model()
    compiled = torch.compile(model, backend='aot_eager')
    x = torch.randn(2, 8, 9, 9)
    expected = _per_sample(model, x)
    for b in (2, 1):
        _close(compiled(x[:b]), expected[:b])
