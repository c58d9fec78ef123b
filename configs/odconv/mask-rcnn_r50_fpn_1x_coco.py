# Mask R-CNN R50-FPN 1x, static baseline.
# Official ODConv README: 38.2 box AP / 34.6 mask AP.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
