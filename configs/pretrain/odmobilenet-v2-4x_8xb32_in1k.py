# OD-MobileNetV2 (1.0x, 4 kernels, squeeze ratio 1/16) on ImageNet-1k with
# the paper's recipe (official ODConv README): SGD with momentum 0.9, lr 0.05
# for a batch of 256 (8 GPUs x 32), weight decay 4e-5 on every parameter,
# 150 epochs of cosine decay to 0 (per iteration), dropout 0.2 before the
# classifier, the attention temperature annealed from 30 to 1 over the first
# 10 epochs, and torchvision's (PIL) crops. Official figures: 75.29 top-1
# (static MobileNetV2 1.0x: 71.65), 11.51M params. Its backbone is the one of
# configs/odconv/faster-rcnn_mobilenetv2-odconv4x_fpn_1x_coco.py.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/default_runtime.py', './_base_/odconv_pretrain.py'
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmdet.ODMobileNetV2',
        widen_factor=1.0,
        out_indices=(7, ),
        odconv=dict(kernel_num=4, reduction=0.0625)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='DropoutLinearClsHead',
        num_classes=1000,
        in_channels=1280,
        dropout=0.2,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=4e-5))
param_scheduler = dict(
    type='CosineAnnealingLR',
    T_max=150,
    eta_min=0.0,
    by_epoch=True,
    convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=150, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
