# Mask R-CNN R50-FPN 1x, static baseline.
# Official ODConv README: 38.2 box AP / 34.6 mask AP. Builds exactly the
# official mask_rcnn_r50_fpn_1x_coco (less its unused ImageNet classifier):
# see docs/official_models.md to evaluate it.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
