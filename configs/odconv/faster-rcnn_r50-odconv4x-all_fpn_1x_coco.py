# Faster R-CNN R50-FPN where EVERY backbone conv (stem and shortcuts too) is
# ODConv with 4 kernels, through MMDetection's own conv_cfg. An ablation of
# the placement; the paper's placement is faster-rcnn_r50-odconv4x_fpn.
# Starts from ImageNet ResNet-50, whose kernels are inflated into the bank.
_base_ = './faster-rcnn_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

model = dict(backbone=dict(conv_cfg=dict(type='ODConv', kernel_num=4)))
