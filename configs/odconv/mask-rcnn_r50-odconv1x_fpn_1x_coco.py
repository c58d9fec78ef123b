# Mask R-CNN with OD-ResNet50 (1 kernel), the paper's placement.
_base_ = './mask-rcnn_r50_fpn_1x_coco.py'

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
