# Faster R-CNN with OD-ResNet50 (4 kernels), the paper's placement.
# Official ODConv README: 39.4 box AP vs 37.4 baseline (paper: 39.2 vs 37.2).
# Backbone weights: the official OD-ResNet50 (4x) ImageNet checkpoint,
# converted with tools/model_converters/odconv_official_to_mmdet.py.
_base_ = './faster-rcnn_r50-odconv1x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        odconv=dict(kernel_num=4),
        init_cfg=dict(checkpoint='checkpoints/od_resnet50_4x_mmdet.pth')))
