# Mask R-CNN with OD-ResNet50 (1 kernel), the paper's placement; the
# official repository has no 1x detector.
_base_ = './mask-rcnn_r50-odconv4x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        odconv=dict(kernel_num=1),
        init_cfg=dict(checkpoint='checkpoints/od_resnet50_1x_mmdet.pth')))
