# Faster R-CNN with OD-ResNet101 (1 kernel), the paper's placement.
# The official repository has no R101 detector (it publishes OD-ResNet101
# 1x and 2x ImageNet checkpoints), so there is no reference number.
_base_ = './faster-rcnn_r50-odconv1x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='checkpoints/od_resnet101_1x_mmdet.pth')))
