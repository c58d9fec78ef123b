# Mask R-CNN with OD-MobileNetV2 (1.0x, 4 kernels): every conv but the 3x3
# stem is ODConv. Official ODConv README: 36.0 box AP / 33.0 mask AP
# (baseline 32.4 / 29.8). Builds exactly the official
# mask_rcnn_odconv4x_mobilenetv2_100_fpn_1x_coco (less its unused ImageNet
# classifier): see docs/official_models.md.
_base_ = './mask-rcnn_mobilenetv2_fpn_1x_coco.py'

model = dict(backbone={{_base_.odconv_backbones.od_mobilenetv2_4x}})
