# Faster R-CNN with OD-ResNet101 (1 kernel), the paper's placement.
# The official README reports no R101 detection numbers; expect a gain over
# the R101 baseline similar to R50's (+1 to +2 box AP).
_base_ = './faster-rcnn_r50-odconv1x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='checkpoints/od_resnet101_1x_mmdet.pth')))
