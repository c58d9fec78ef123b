# RetinaNet with OD-ResNet50 (4 kernels), the paper's placement: ODConv is
# not tied to two-stage detectors. MMDetection's static RetinaNet R50 1x:
# 36.5 box AP; no official ODConv number exists for RetinaNet.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        type='ODResNet',
        odconv=dict(kernel_num=4, reduction=0.0625),
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/od_resnet50_4x_mmdet.pth')))
