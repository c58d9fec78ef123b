"""plot_attention records every ODConv's four attentions and draws them."""
import torch

from mmdet_odconv.models import ODResNet
from tools.analysis_tools.plot_attention import capture_attentions, plot


def test_capture_and_plot(tmp_path):
    model = ODResNet(depth=18, base_channels=8, odconv=dict(kernel_num=4))
    model.eval()
    records = capture_attentions(model,
                                 lambda: model(torch.randn(2, 3, 64, 64)))
    assert len(records) == 16
    r = records[0]
    assert r['name'] == 'layer1.0.conv1'
    assert r['spatial'].shape == (3, 3) and r['kernel'].shape == (4, )
    assert torch.isclose(r['kernel'].sum(), torch.tensor(1.0))
    assert r['channel'].shape == (8, ) and r['filter'].shape == (8, )
    out = plot(records, str(tmp_path / 'att.png'))
    assert (tmp_path / 'att.png').stat().st_size > 10_000
    # hooks are removed afterwards
    assert all(not m._forward_hooks for m in model.modules())
    del out
