# Pretraining of the demo detector's backbone (ResNet18 at half width,
# base_channels=32, as configs/demo/faster-rcnn_r18_fpn_demo.py) on the
# generated 60-class shapes set (mmdet_odconv.workbench.shapes_cls): the
# official ImageNet recipe's shape (warm-up, a step decay, dropout 0.2 before
# the classifier; ODConv: temperature 30 -> 1 over the first 10% of the
# iterations) on a CPU budget of 600 iterations of 64 images. The optimizer
# is the detection demo's AdamW (lr 0.002 at batch 64, weight decay 0.05):
# with the official SGD (lr 0.1 per 256 images, momentum 0.9, weight decay
# 1e-4, steps at 30/60/90%) the classifier had not left chance (cross
# entropy ln 60) after 300-400 iterations, even at lr 0.1 per 64 images
# (docs/accuracy.md).
#
# tools/analysis_tools/pretrain_finetune_study.py trains it, saves the
# backbone, checks that it loads strictly into the detector and fine-tunes
# faster-rcnn_r18_fpn_pretrained_demo.py from it; --cls-iters rescales every
# iteration count below.
custom_imports = dict(
    imports=['mmdet_odconv', 'mmdet_odconv.workbench'],
    allow_failed_imports=False)
default_scope = 'mmdet'

data_root = 'data/odconv_shapes_cls/'
num_classes = 60
batch_size = 64
max_iters = 600
warmup_iters = max_iters // 50

model = dict(
    type='BackboneClassifier',
    # the detector's input normalisation, so the features carry over
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        base_channels=32,
        num_stages=4,
        out_indices=(3, ),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    num_classes=num_classes,
    dropout=0.2)

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='ShapesClsDataset',
        data_root=data_root,
        split='train',
        crop_padding=4))
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ShapesClsDataset', data_root=data_root, split='val'))
val_evaluator = dict(type='TopKAccuracy', topk=(1, 5))

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.002, weight_decay=0.05))
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[int(max_iters * 0.75)],
        gamma=0.1)
]

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters // 4,
        max_keep_ckpts=1))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
custom_hooks = [dict(type='RNGStateHook')]
# The ODConv variants' hooks: the official temperature annealing, 30 -> 1
# over the first 10% of the schedule (10 of 100 epochs on ImageNet).
odconv_custom_hooks = custom_hooks + [
    dict(
        type='ODConvTemperatureHook',
        start=30.0,
        end=1.0,
        duration=max_iters // 10,
        by_epoch=False)
]
