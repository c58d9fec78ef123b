# Cascade R-CNN with OD-ResNet50 (4 kernels), the paper's placement.
# MMDetection's static Cascade R-CNN R50 1x: 40.3 box AP; no official ODConv
# number exists for Cascade R-CNN.
_base_ = [
    'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py',
    './_base_/odconv_backbones.py'
]

model = dict(backbone={{_base_.odconv_backbones.od_resnet50_4x}})
