# The demo with one-kernel ODConv (ODConv 1x) in every residual block.
_base_ = './faster-rcnn_r18_fpn_demo.py'

model = dict(
    backbone=dict(
        type='ODResNet',
        odconv=dict(kernel_num=1, reduction=0.0625, min_channel=16)))

custom_hooks = {{_base_.odconv_custom_hooks}}  # temperature annealing
