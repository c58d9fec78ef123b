# Faster R-CNN R50-FPN 1x, the static baseline of the ODConv configs.
# Official ODConv README: 37.4 box AP (paper table: 37.2). Builds exactly the
# official faster_rcnn_r50_fpn_1x_coco (less its unused ImageNet
# classifier): see docs/official_models.md to evaluate it.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
