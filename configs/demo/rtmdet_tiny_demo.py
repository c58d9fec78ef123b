# RTMDet-tiny on the CPU demo: MMDetection's RTMDet-tiny architecture
# (CSPNeXt-tiny, CSPNeXtPAFPN, RTMDetSepBNHead) trained from scratch on the
# generated shapes with the Faster R-CNN demo's data, pipeline, schedule and
# seed (inherited): the real-time rows of benchmarks/demo_ap_table.py.
# BN instead of SyncBN (one CPU process); no ImageNet weights (offline).
_base_ = './faster-rcnn_r18_fpn_demo.py'

norm_cfg = dict(type='BN')
act_cfg = dict(type='SiLU', inplace=True)
model = dict(
    _delete_=True,
    type='RTMDet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[103.53, 116.28, 123.675],
        std=[57.375, 57.12, 58.395],
        bgr_to_rgb=False,
        pad_size_divisor=32),
    backbone=dict(
        type='CSPNeXt',
        arch='P5',
        deepen_factor=0.167,
        widen_factor=0.375,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg,
        init_cfg=None),
    neck=dict(
        type='CSPNeXtPAFPN',
        in_channels=[96, 192, 384],
        out_channels=96,
        num_csp_blocks=1,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg),
    bbox_head=dict(
        type='RTMDetSepBNHead',
        num_classes={{_base_.model.roi_head.bbox_head.num_classes}},
        in_channels=96,
        feat_channels=96,
        stacked_convs=2,
        anchor_generator=dict(
            type='MlvlPointGenerator', offset=0, strides=[8, 16, 32]),
        bbox_coder=dict(type='DistancePointBBoxCoder'),
        loss_cls=dict(
            type='QualityFocalLoss', use_sigmoid=True, beta=2.0,
            loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        with_objectness=False,
        exp_on_reg=False,
        share_conv=True,
        pred_kernel_size=1,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg),
    train_cfg=dict(
        assigner=dict(type='DynamicSoftLabelAssigner', topk=13),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=50))
