# Mask R-CNN with OD-MobileNetV2 (1.0x, 4 kernels).
# Official ODConv README: 36.0 box AP / 33.0 mask AP (baseline 32.4 / 29.8).
_base_ = './mask-rcnn_mobilenetv2_fpn_1x_coco.py'

custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        type='ODMobileNetV2',
        odconv=dict(kernel_num=4, reduction=0.0625),
        init_cfg=dict(checkpoint='checkpoints/od_mobilenetv2_4x_mmdet.pth')))
