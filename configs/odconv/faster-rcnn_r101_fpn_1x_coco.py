# Faster R-CNN R101-FPN 1x, static baseline (MMDetection: 39.4 box AP).
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py'
