# Faster R-CNN with OD-ResNet50 (4 kernels), the paper's placement: every
# conv of every bottleneck is ODConv; the 7x7 stem and 1x1 shortcuts stay
# static. Official ODConv README: 39.4 box AP vs 37.4 baseline (paper: 39.2
# vs 37.2). This config builds exactly the official detector
# faster_rcnn_odconv4x_r50_fpn_1x_coco (less its unused ImageNet
# classifier): convert its published checkpoint and evaluate it with
# tools/test.py, see docs/official_models.md. To train, the backbone starts
# from the official OD-ResNet50 (4x) ImageNet checkpoint, converted with
# tools/model_converters/odconv_official_to_mmdet.py.
_base_ = [
    './faster-rcnn_r50_fpn_1x_coco.py', './_base_/odconv_backbones.py'
]

model = dict(backbone={{_base_.odconv_backbones.od_resnet50_4x}})
