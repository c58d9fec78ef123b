# Faster R-CNN with MobileNetV2 (1.0x) and FPN on its 24, 32, 96 and
# 1280-channel stages, as the official ODConv detection configs.
# Official ODConv README: 31.8 box AP. Builds exactly the official
# faster_rcnn_mobilenetv2_100_fpn_1x_coco (less its unused ImageNet
# classifier): see docs/official_models.md to evaluate it.
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    './_base_/odconv_backbones.py'
]

model = dict(
    backbone={{_base_.odconv_backbones.mobilenetv2}},
    neck=dict(in_channels=[24, 32, 96, 1280]))
