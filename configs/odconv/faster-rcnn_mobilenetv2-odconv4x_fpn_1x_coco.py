# Faster R-CNN with OD-MobileNetV2 (1.0x, 4 kernels): every conv but the 3x3
# stem is ODConv. Official ODConv README: 35.5 box AP vs 31.8 baseline.
_base_ = './faster-rcnn_mobilenetv2_fpn_1x_coco.py'

custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        type='ODMobileNetV2',
        odconv=dict(kernel_num=4, reduction=0.0625),
        init_cfg=dict(checkpoint='checkpoints/od_mobilenetv2_4x_mmdet.pth')))
