# OD-ResNet18 (4 kernels, squeeze ratio 1/16) on ImageNet-1k with MMPretrain,
# the paper's recipe (official ODConv README and main.py): SGD with momentum
# 0.9, lr 0.1 for a batch of 256 (8 GPUs x 32), weight decay 1e-4 on every
# parameter, 100 epochs with the lr divided by 10 at epochs 30, 60 and 90,
# dropout 0.2 before the classifier, the attention temperature annealed from
# 30 to 1 over the first 10 epochs, and torchvision's (PIL) crops.
# Official figures: 74.19 top-1 (static ResNet18: 70.25), 44.90M params.
# The backbone loads into an OD-R18 detector with init_cfg=dict(
# type='Pretrained', checkpoint=..., prefix='backbone.'): docs/pretraining.md.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py',
    'mmpretrain::_base_/default_runtime.py', './_base_/odconv_pretrain.py'
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmdet.ODResNet',
        depth=18,
        out_indices=(3, ),
        odconv=dict(kernel_num=4, reduction=0.0625)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='DropoutLinearClsHead',
        num_classes=1000,
        in_channels=512,
        dropout=0.2,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

# The recipe's optimiser and steps are MMPretrain's imagenet_bs256 schedule:
# SGD lr 0.1, momentum 0.9, weight decay 1e-4, x0.1 at 30/60/90, 100 epochs.
