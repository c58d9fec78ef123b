# OD-ResNet50 (4 kernels, squeeze ratio 1/16) on ImageNet-1k with the
# paper's recipe, as odresnet18-4x_8xb32_in1k.py. Official figures: 78.50
# top-1 (static ResNet50: 76.23), 90.67M params. Its backbone is the one of
# configs/odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py.
_base_ = './odresnet18-4x_8xb32_in1k.py'

model = dict(backbone=dict(depth=50), head=dict(in_channels=2048))
