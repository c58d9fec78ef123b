# Faster R-CNN with ResNeXt-101 32x4d where every backbone conv is ODConv
# (4 kernels) through MMDetection's conv_cfg: ODConv works in any backbone
# that takes conv_cfg. MMDetection's static X101-32x4d 1x: 41.2 box AP.
# Starts from the ImageNet ResNeXt weights of the base config, inflated
# into the kernel bank.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_x101-32x4d_fpn_1x_coco.py'

custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

model = dict(backbone=dict(conv_cfg=dict(type='ODConv', kernel_num=4)))
