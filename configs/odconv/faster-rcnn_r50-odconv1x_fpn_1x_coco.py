# Faster R-CNN with OD-ResNet50 (1 kernel), the paper's placement: every conv
# of every bottleneck is ODConv; the 7x7 stem and 1x1 shortcuts stay static.
# Expected: between the baseline (37.4) and ODConv 4x (39.4) box AP.
# Backbone weights: the official OD-ResNet50 (1x) ImageNet checkpoint,
# converted with tools/model_converters/odconv_official_to_mmdet.py.
# To start from a plain ImageNet ResNet-50 instead (its kernels are inflated
# into the bank), pass
#   --cfg-options model.backbone.init_cfg.checkpoint=torchvision://resnet50
_base_ = './faster-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        type='ODResNet',
        odconv=dict(kernel_num=1, reduction=0.0625),
        stage_with_odconv=(True, True, True, True),
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/od_resnet50_1x_mmdet.pth')))
