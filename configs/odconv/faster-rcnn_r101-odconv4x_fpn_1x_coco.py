# Faster R-CNN with OD-ResNet101 (4 kernels), the paper's placement.
# The paper reports detection for R50 and MobileNetV2 only. Without an
# official 4-kernel OD-ResNet101 checkpoint, convert the 1-kernel one with
# the 1x config and start from it: a 1-kernel checkpoint fills all four
# kernels (its attention loads; the kernel head starts random): pass
#   --cfg-options model.backbone.init_cfg.checkpoint=CONVERTED_1X_FILE
# e.g. checkpoints/od_resnet101_1x_mmdet.pth.
_base_ = './faster-rcnn_r50-odconv4x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(checkpoint='checkpoints/od_resnet101_4x_mmdet.pth')))
