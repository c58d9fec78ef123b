# Pretraining of the OD-ResNet18 1x backbone of
# configs/demo/faster-rcnn_r18-odconv1x_fpn_demo.py (ODConv with one kernel
# in every residual block); recipe as resnet18_shapes-cls_demo.py, plus the
# temperature annealing.
_base_ = './resnet18_shapes-cls_demo.py'

model = dict(
    backbone=dict(
        type='ODResNet',
        odconv=dict(kernel_num=1, reduction=0.0625, min_channel=16)))

custom_hooks = {{_base_.odconv_custom_hooks}}  # temperature annealing
