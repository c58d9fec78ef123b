# Faster R-CNN with OD-ResNet50 (1 kernel), the paper's placement: every conv
# of every bottleneck is ODConv; the 7x7 stem and 1x1 shortcuts stay static.
# Expected: between the baseline (37.4) and ODConv 4x (39.4) box AP; the
# official repository has no 1x detector.
# Backbone weights: the official OD-ResNet50 (1x) ImageNet checkpoint,
# converted with tools/model_converters/odconv_official_to_mmdet.py.
# To start from a plain ImageNet ResNet-50 instead (its kernels are inflated
# into the bank), pass
#   --cfg-options model.backbone.init_cfg.checkpoint=torchvision://resnet50
_base_ = './faster-rcnn_r50-odconv4x_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        odconv=dict(kernel_num=1),
        init_cfg=dict(checkpoint='checkpoints/od_resnet50_1x_mmdet.pth')))
