# Mask R-CNN with MobileNetV2 (1.0x) and FPN on its 24, 32, 96 and
# 1280-channel stages, as the official ODConv detection configs.
# Official ODConv README: 32.4 box AP / 29.8 mask AP. Builds exactly the
# official mask_rcnn_mobilenetv2_100_fpn_1x_coco (less its unused ImageNet
# classifier): see docs/official_models.md to evaluate it.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    './_base_/odconv_backbones.py'
]

model = dict(
    backbone={{_base_.odconv_backbones.mobilenetv2}},
    neck=dict(in_channels=[24, 32, 96, 1280]))
