"""plot_attention records every ODConv's four attentions and draws them."""
import os

import torch

from mmdet_odconv.models import ODResNet
from tests.test_tools.test_tool_args import assert_advice_parses
from tools.analysis_tools.plot_attention import (capture_attentions, main,
                                                 parse_args, plot)


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
    out = plot(records, str(tmp_path / 'new' / 'att.png'))
    assert (tmp_path / 'new' / 'att.png').stat().st_size > 10_000
    # hooks are removed afterwards
    assert all(not m._forward_hooks for m in model.modules())
    del out


def test_a_missing_attention_is_labelled_with_its_cause(tmp_path):
    """Left out of ``attentions=`` or all ones for the geometry (depthwise,
    1x1, one kernel): each label names the actual cause."""
    import torch.nn as nn

    from mmdet_odconv import ODConv2d
    model = nn.Sequential(
        # spatial and kernel left out; the filter head would carry
        # information, so its absence is the user's choice too
        ODConv2d(8, 8, 3, padding=1, kernel_num=1, min_channel=4,
                 attentions=('channel', )),
        # all four asked for: what is missing is missing by geometry
        ODConv2d(8, 8, 1, groups=8, kernel_num=1, min_channel=4),
        # channel left out of a 3x3 with a bank of four
        ODConv2d(8, 8, 3, padding=1, kernel_num=4, min_channel=4,
                 attentions=('filter', 'spatial', 'kernel')))
    model.eval()
    records = capture_attentions(model,
                                 lambda: model(torch.randn(1, 8, 5, 5)))
    assert [r['absent'] for r in records] == [
        dict(filter='left out: none', spatial='left out: none',
             kernel='n=1: none'),
        dict(filter='depthwise: none', spatial='1x1: none',
             kernel='n=1: none'),
        dict(channel='left out: none'),
    ]
    assert records[2]['channel'] is None
    assert records[2]['spatial'].shape == (3, 3)
    plot(records, str(tmp_path / 'subsets.png'))
    assert (tmp_path / 'subsets.png').stat().st_size > 1000


def test_cli_refuses_a_checkpoint_of_another_model_and_a_missing_image(
        tmp_path):
    """MMDetection's init_detector would load a 4-kernel checkpoint into
    the 1-kernel demo model non-strictly and plot random attentions; the
    advice names only what this tool accepts."""
    from mmdet_odconv.tools_support import build_detector
    od4 = build_detector('configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py')
    ckpt = tmp_path / 'od4.pth'
    torch.save({'state_dict': od4.state_dict()}, ckpt)
    image = tmp_path / 'img.png'
    image.write_bytes(b'')
    config = 'configs/demo/faster-rcnn_r18-odconv1x_fpn_demo.py'
    msg = main([config, str(ckpt), str(image), '--out',
                str(tmp_path / 'a.png')])
    assert isinstance(msg, str) and 'ODConv 4x' in msg
    assert_advice_parses(msg, parse_args, [config, str(ckpt), str(image)])
    msg = main([config, str(ckpt), str(tmp_path / 'none.png')])
    assert isinstance(msg, str) and 'image not found' in msg


def test_out_never_overwrites_what_it_reads(tmp_path):
    """--out naming the image, however spelled (a hard link, ./x/../x),
    is refused before anything is built or drawn."""
    image = tmp_path / 'img.png'
    image.write_bytes(b'not drawn over')
    os.link(image, tmp_path / 'link.png')
    config = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'
    for out in (tmp_path / 'link.png', f'{tmp_path}/x/../img.png'):
        msg = main([config, 'unused.pth', str(image), '--out', str(out)])
        assert isinstance(msg, str) and 'is the image this command' in msg
    assert image.read_bytes() == b'not drawn over'
    msg = main([config, 'unused.pth', str(image), '--out',
                str(image / 'att.png')])
    assert isinstance(msg, str) and 'is a file, not a folder' in msg


def test_the_saved_temperature_is_applied(tmp_path):
    """A checkpoint saved mid-anneal is plotted at its temperature."""
    from mmdet_odconv import get_temperature
    from mmdet_odconv.tools_support import build_detector
    config = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'
    ckpt = tmp_path / 'mid_anneal.pth'
    torch.save({'state_dict': build_detector(config).state_dict(),
                'meta': {'odconv_temperature': 12.5}}, ckpt)
    model = build_detector(config, checkpoint=str(ckpt))
    assert get_temperature(model) == 12.5
