# OD-CSPNeXt-tiny (4 kernels, squeeze ratio 1/16; RTMDet-tiny's backbone) on
# ImageNet-1k with the recipe MMDetection pretrained CSPNeXt with
# (mmdet::rtmdet/classification, RSB A1: LAMB, 600 epochs, Mixup and CutMix,
# label smoothing, no weight decay on norms and biases), plus the paper's
# temperature annealing from 30 to 1 over the first 10 epochs. The ODConv
# placement is the one of configs/odconv/rtmdet_tiny-odconv4x_8xb32-300e_coco.py
# (stem, CSP shortcuts and channel attention static), whose backbone this
# checkpoint feeds. The paper gives no figure for CSPNeXt; MMDetection's
# static CSPNeXt-tiny reaches 69.44 top-1 with this recipe (its README).
# Written out rather than inherited through mmdet::, which would build the
# classifier from MMDetection's registry.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs256_rsb_a12.py',
    'mmpretrain::_base_/schedules/imagenet_bs2048_rsb.py',
    'mmpretrain::_base_/default_runtime.py', './_base_/odconv_pretrain.py'
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmdet.ODCSPNeXt',
        arch='P5',
        out_indices=(4, ),
        expand_ratio=0.5,
        deepen_factor=0.167,
        widen_factor=0.375,
        channel_attention=True,
        norm_cfg=dict(type='BN'),
        act_cfg=dict(type='mmdet.SiLU'),
        odconv=dict(kernel_num=4, reduction=0.0625)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(
            type='LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original',
            loss_weight=1.0),
        topk=(1, 5)),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.2),
        dict(type='CutMix', alpha=1.0)
    ]))

train_dataloader = dict(sampler=dict(type='RepeatAugSampler', shuffle=True))

optim_wrapper = dict(
    optimizer=dict(weight_decay=0.01),
    paramwise_cfg=dict(bias_decay_mult=0., norm_decay_mult=0.))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.0001,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=595,
        eta_min=1.0e-6,
        by_epoch=True,
        begin=5,
        end=600)
]
train_cfg = dict(by_epoch=True, max_epochs=600)
