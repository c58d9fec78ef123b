# RTMDet-tiny with OD-CSPNeXt (4 kernels); placement, static convs and
# weights as in rtmdet_tiny-odconv1x_8xb32-300e_coco.py: ODConv in every
# conv of every stage, the stem, the CSP short_conv and the channel
# attention static. 26 ODConv layers.
_base_ = './rtmdet_tiny-odconv1x_8xb32-300e_coco.py'

model = dict(backbone=dict(odconv=dict(kernel_num=4)))
