# RTMDet-s with OD-CSPNeXt (1 kernel): the paper's placement carried over
# to CSPNeXt. The paper makes every conv of OD-ResNet / OD-MobileNetV2
# dynamic except the stem and the 1x1 projection shortcuts. Here, likewise:
# - ODConv: every conv of every stage: the 3x3 stride-2 transition conv
#   (a main-path conv, as the paper's stride-2 convs inside its blocks), the
#   SPP convs, the CSP layer's main and final 1x1 convs and both convs of
#   each CSPNeXtBlock (its first conv is built without conv_cfg by
#   MMDetection, so conv_cfg alone could not reach it).
# - static: the 3-conv stem (as the paper's stem), the CSP layer's
#   short_conv (the partial shortcut branch, the role of ResNet's projection
#   shortcut) and the channel attention's 1x1 conv (an excitation on a
#   pooled vector, not a conv over features).
# 32 ODConv layers. The neck and head are MMDetection's, unchanged.
# Backbone weights: the baseline's static CSPNeXt-s ImageNet checkpoint;
# loading inflates each static kernel into the bank, so every ODConv starts
# as the static conv it replaces (there is no ImageNet OD-CSPNeXt).
_base_ = './rtmdet_s_8xb32-300e_coco.py'

custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        type='ODCSPNeXt', odconv=dict(kernel_num=1, reduction=0.0625)))
