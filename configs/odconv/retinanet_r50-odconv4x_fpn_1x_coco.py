# RetinaNet with OD-ResNet50 (4 kernels), the paper's placement: ODConv is
# not tied to two-stage detectors. MMDetection's static RetinaNet R50 1x:
# 36.5 box AP; no official ODConv number exists for RetinaNet.
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    './_base_/odconv_backbones.py'
]

model = dict(backbone={{_base_.odconv_backbones.od_resnet50_4x}})
