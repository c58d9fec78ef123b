# The embedded CPU demo: OD-ResNet18 (ODConv 4x in every residual block)
# Faster R-CNN trained from scratch on the generated shapes dataset
# (tools/misc/make_demo_data.py), sized for 2 CPU cores (~11 min of training).
_base_ = './faster-rcnn_r18_fpn_demo.py'

model = dict(
    backbone=dict(
        type='ODResNet',
        odconv=dict(kernel_num=4, reduction=0.0625, min_channel=16)))
