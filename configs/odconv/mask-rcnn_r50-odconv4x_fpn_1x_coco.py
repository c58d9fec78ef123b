# Mask R-CNN with OD-ResNet50 (4 kernels), the paper's placement.
# Official ODConv README: 40.2 box AP / 36.1 mask AP (baseline 38.2 / 34.6).
_base_ = './mask-rcnn_r50-odconv1x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        odconv=dict(kernel_num=4),
        init_cfg=dict(checkpoint='checkpoints/od_resnet50_4x_mmdet.pth')))
