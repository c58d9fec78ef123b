# The embedded CPU demo: OD-ResNet18 with ODConv 4x in every residual block,
# Faster R-CNN trained from scratch on the generated shapes dataset
# (tools/misc/make_demo_data.py), sized for 2 CPU cores. Everything but the
# kernel bank size comes from the ODConv 1x demo.
_base_ = './faster-rcnn_r18-odconv1x_fpn_demo.py'

model = dict(backbone=dict(odconv=dict(kernel_num=4)))
