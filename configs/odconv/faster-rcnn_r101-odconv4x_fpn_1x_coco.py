# Faster R-CNN with OD-ResNet101 (4 kernels), the paper's placement.
_base_ = './faster-rcnn_r50-odconv4x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='checkpoints/od_resnet101_4x_mmdet.pth')))
