"""plot_attention records every ODConv's four attentions and draws them."""
import pytest
import torch

from mmdet_odconv.models import ODResNet
from tools.analysis_tools.plot_attention import (capture_attentions, main,
                                                 plot)


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


def test_cli_refuses_a_checkpoint_of_another_model_and_a_missing_image(
        tmp_path):
    """Before, MMDetection's init_detector loaded a 1-kernel checkpoint
    into the 4-kernel demo model non-strictly and plotted random kernel
    attentions."""
    from mmdet_odconv.utils import build_detector
    od1 = build_detector('configs/demo/faster-rcnn_r18-odconv1x_fpn_demo.py')
    ckpt = tmp_path / 'od1.pth'
    torch.save({'state_dict': od1.state_dict()}, ckpt)
    image = tmp_path / 'img.png'
    image.write_bytes(b'')
    config = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'
    with pytest.raises(SystemExit, match='ODConv 1x'):
        main([config, str(ckpt), str(image), '--out',
              str(tmp_path / 'a.png')])
    with pytest.raises(SystemExit, match='image not found'):
        main([config, str(ckpt), str(tmp_path / 'none.png')])
