"""get_flops counts ODConv's conv, aggregation and attention work."""
import pytest
import torch
import torch.nn as nn

from mmdet_odconv import ODConv2d
from mmdet_odconv.complexity import complexity
from tests.test_tools.test_tool_args import assert_advice_parses
from tools.analysis_tools.get_flops import main, measure


def test_single_layer_counts_conv_aggregation_and_attention():
    layer = ODConv2d(8, 16, 3, padding=1, kernel_num=4, min_channel=16)
    static = nn.Conv2d(8, 16, 3, padding=1, bias=False)
    x = torch.randn(1, 8, 10, 10)
    od = complexity(layer, (x, ))
    st = complexity(static, (x, ))
    conv = 16 * 8 * 9 * 10 * 10  # multiply-adds of the conv itself
    assert st['flops'] == conv
    aggregation = 4 * 16 * 8 * 9  # kernel-bank matmul over n
    spatial = 16 * 8 * 9  # spatial attention on the kernel
    heads = 8 * 16 + 16 * (8 + 16 + 9 + 4)  # squeeze FC + four heads
    assert od['flops'] >= conv + aggregation + spatial + heads
    assert od['flops'] <= 1.2 * conv
    assert od['odconv_layers'] == 1 and od['odconv_flops'] == od['flops']


def test_backbone_flops_and_params_vs_paper(capsys):
    """OD-ResNet50 at 224x224: parameters equal the paper's (backbone
    without the 2.05 M classifier) and ODConv adds FLOPs in the order
    1x < 4x."""
    cfg = 'configs/odconv/faster-rcnn_r50{}_fpn_1x_coco.py'
    base = measure(cfg.format(''), (224, 224), backbone=True)
    od1 = measure(cfg.format('-odconv1x'), (224, 224), backbone=True)
    od4 = measure(cfg.format('-odconv4x'), (224, 224), backbone=True)
    fc = 2048 * 1000 + 1000
    assert (od1['params'] + fc) / 1e6 == pytest.approx(28.64, abs=0.01)
    assert (od4['params'] + fc) / 1e6 == pytest.approx(90.67, abs=0.01)
    assert base['flops'] < od1['flops'] < od4['flops']
    assert od4['flops'] / base['flops'] < 1.1  # paper: 4.080 / 3.858
    assert main([cfg.format('-odconv4x'), '--shape', '64', '--backbone']) \
        == 0
    assert '1 FLOP = 1 multiply-add' in capsys.readouterr().out


def test_detector_flops_without_dataset():
    r = measure('configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py',
                (96, 96))
    assert r['odconv_layers'] == 16 and r['flops'] > r['odconv_flops'] > 0


def test_benchmark_fps_on_cpu(capsys):
    from tools.analysis_tools.benchmark import main as bench
    assert bench(['configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py',
                  '--shape', '96', '96', '--num-images', '3', '--warmup',
                  '1', '--device', 'cpu']) == 0
    out = capsys.readouterr().out
    assert 'img/s' in out and 'over 3 images' in out


def test_benchmark_fuse_conv_bn_folds_every_bn():
    """--fuse-conv-bn folds the BNs after static convs and after ODConvs
    and the attention BNs (that the outputs stay the same is tested in
    tests/test_deploy and test_odconv_robustness)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from tools.analysis_tools import benchmark as tool
    cfg = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'
    r = tool.benchmark(cfg, shape=(96, 96), num_images=1, warmup=0,
                       fuse_conv_bn=True)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(Config.fromfile(cfg).model)
    bns = tool._count_bns(model)
    assert r['fused_bns'] == bns > 0
    assert tool.benchmark(cfg, shape=(96, 96), num_images=1,
                          warmup=0)['fused_bns'] == 0


def test_benchmark_refuses_a_checkpoint_of_another_model(tmp_path):
    """Strict loading: a mismatched checkpoint must not time a partly
    random model; a file that is not a checkpoint is named as such."""
    from tools.analysis_tools.benchmark import main as bench
    ckpt = tmp_path / 'other.pth'
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(1)}},
               ckpt)
    args = ['--shape', '96', '96', '--num-images', '1', '--warmup', '0',
            '--device', 'cpu']
    config = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'
    msg = bench([config, str(ckpt), *args])
    assert isinstance(msg, str)
    assert f'Checkpoint {ckpt} does not fit' in msg
    assert 'backbone.conv1.weight: [1] vs [32, 3, 7, 7]' in msg
    from tools.analysis_tools.benchmark import parse_args
    assert_advice_parses(msg, parse_args, [config, str(ckpt)])
    html = tmp_path / 'page.pth'
    html.write_text('<!DOCTYPE html><html><body>Sign in</body></html>')
    msg = bench([config, str(html), *args])
    assert isinstance(msg, str)
    assert 'is not a PyTorch checkpoint: it is an HTML page' in msg
