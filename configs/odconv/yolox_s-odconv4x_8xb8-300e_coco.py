# YOLOX-s with OD-CSPDarknet (4 kernels); placement as in
# yolox_s-odconv1x_8xb8-300e_coco.py: ODConv in every conv of every stage,
# the Focus stem and the CSP short_conv static. 30 ODConv layers.
_base_ = './yolox_s-odconv1x_8xb8-300e_coco.py'

model = dict(backbone=dict(odconv=dict(kernel_num=4)))
