# Faster R-CNN with OD-ResNet18 (4 kernels), the paper's placement: every
# conv of every basic block is ODConv; the 7x7 stem and 1x1 shortcuts stay
# static. The paper reports detection for R50 and MobileNetV2 only; this is
# the detector for the official OD-ResNet18 (4x) ImageNet checkpoint
# (converted with tools/model_converters/odconv_official_to_mmdet.py) or for
# one pretrained with configs/pretrain/odresnet18-4x_8xb32_in1k.py: pass
#   --cfg-options model.backbone.init_cfg.checkpoint=WORK_DIR/epoch_100.pth \
#                 model.backbone.init_cfg.prefix=backbone.
_base_ = './faster-rcnn_r50-odconv4x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(checkpoint='checkpoints/od_resnet18_4x_mmdet.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
