# The ODConv 4x demo detector fine-tuned from the backbone pretrained by
# resnet18-odconv4x_shapes-cls_demo.py; everything but the kernel bank size
# and the checkpoint comes from the ODConv 1x fine-tuning.
_base_ = './faster-rcnn_r18-odconv1x_fpn_pretrained_demo.py'

pretrained = 'work_dirs/study/runs/od4x-seed0/backbone.pth'
model = dict(
    backbone=dict(
        odconv=dict(kernel_num=4), init_cfg=dict(checkpoint=pretrained)))
