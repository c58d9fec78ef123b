# Mask R-CNN with MobileNetV2 (1.0x) and FPN on stages 1, 2, 4, 7.
# Official ODConv README: 32.4 box AP / 29.8 mask AP.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.0,
        out_indices=(1, 2, 4, 7),
        # The official config's frozen_stages=1 freezes, in its own
        # indexing, the stem and the 16- and 24-channel blocks: MMDetection's
        # conv1, layer1 and layer2, i.e. frozen_stages=2 here.
        frozen_stages=2,
        norm_eval=True,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/mobilenetv2_1x_imagenet.pth')),
    neck=dict(in_channels=[24, 32, 96, 1280]))
