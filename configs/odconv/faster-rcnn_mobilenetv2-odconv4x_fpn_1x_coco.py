# Faster R-CNN with OD-MobileNetV2 (1.0x, 4 kernels): every conv but the 3x3
# stem is ODConv. Official ODConv README: 35.5 box AP vs 31.8 baseline.
# Builds exactly the official faster_rcnn_odconv4x_mobilenetv2_100_fpn_1x_coco
# (less its unused ImageNet classifier): see docs/official_models.md.
_base_ = './faster-rcnn_mobilenetv2_fpn_1x_coco.py'

model = dict(backbone={{_base_.odconv_backbones.od_mobilenetv2_4x}})
