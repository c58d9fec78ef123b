# The demo with one-kernel ODConv (ODConv 1x) in every residual block.
_base_ = './faster-rcnn_r18_fpn_demo.py'

model = dict(
    backbone=dict(
        type='ODResNet',
        odconv=dict(kernel_num=1, reduction=0.0625, min_channel=16)))

# ODConv layers trained from scratch learn much faster when the attention
# temperature starts high (soft, near-uniform attentions) and is annealed to
# 1, as in the paper's ImageNet recipe; the first third of the schedule here.
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(
        type='ODConvTemperatureHook',
        start=30.0,
        end=1.0,
        duration=300,
        by_epoch=False)
]
