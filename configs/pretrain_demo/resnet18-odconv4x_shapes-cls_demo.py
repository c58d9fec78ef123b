# Pretraining of the OD-ResNet18 4x backbone of
# configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py; everything but the
# kernel bank size comes from the ODConv 1x pretraining.
_base_ = './resnet18-odconv1x_shapes-cls_demo.py'

model = dict(backbone=dict(odconv=dict(kernel_num=4)))
