# Mask R-CNN with OD-ResNet50 (4 kernels), the paper's placement.
# Official ODConv README: 40.2 box AP / 36.1 mask AP (baseline 38.2 / 34.6).
# Builds exactly the official mask_rcnn_odconv4x_r50_fpn_1x_coco (less its
# unused ImageNet classifier): see docs/official_models.md to evaluate it.
_base_ = ['./mask-rcnn_r50_fpn_1x_coco.py', './_base_/odconv_backbones.py']

model = dict(backbone={{_base_.odconv_backbones.od_resnet50_4x}})
