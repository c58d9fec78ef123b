# RTMDet-tiny with OD-CSPNeXt (4 kernels) on the CPU demo: the placement of
# configs/odconv/rtmdet_tiny-odconv4x_8xb32-300e_coco.py (26 ODConv layers:
# every conv of every stage but the CSP short_conv; stem and channel
# attention static), and the temperature annealing of the ODConv demos;
# everything else as rtmdet_tiny_demo.py.
_base_ = './rtmdet_tiny_demo.py'

model = dict(
    backbone=dict(
        type='ODCSPNeXt',
        odconv=dict(kernel_num=4, reduction=0.0625, min_channel=16)))
custom_hooks = {{_base_.odconv_custom_hooks}}  # temperature annealing
