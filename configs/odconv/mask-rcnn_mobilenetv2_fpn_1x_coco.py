# Mask R-CNN with MobileNetV2 (1.0x) and FPN on stages 1, 2, 4, 7.
# Official ODConv README: 32.4 box AP / 29.8 mask AP.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.0,
        out_indices=(1, 2, 4, 7),
        frozen_stages=-1,
        norm_eval=True,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/mobilenetv2_1x_imagenet.pth')),
    neck=dict(in_channels=[24, 32, 96, 1280]))
