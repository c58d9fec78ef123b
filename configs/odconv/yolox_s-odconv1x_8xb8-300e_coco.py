# YOLOX-s with OD-CSPDarknet (1 kernel): the paper's placement carried over
# to CSPDarknet. The paper makes every conv of OD-ResNet / OD-MobileNetV2
# dynamic except the stem and the 1x1 projection shortcuts. Here, likewise:
# - ODConv: every conv of every stage: the 3x3 stride-2 transition conv
#   (a main-path conv, as the paper's stride-2 convs inside its blocks), the
#   SPP convs, the CSP layer's main and final 1x1 convs and both convs of
#   each DarknetBottleneck.
# - static: the Focus stem (as the paper's stem) and the CSP layer's
#   short_conv (the partial shortcut branch, the role of ResNet's projection
#   shortcut).
# 30 ODConv layers. The neck and head are MMDetection's, unchanged.
# Trained from scratch, as the baseline; ODCSPDarknet keeps ODConv's own
# initialisation under CSPDarknet's Kaiming init_cfg.
_base_ = './yolox_s_8xb8-300e_coco.py'

custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        type='ODCSPDarknet', odconv=dict(kernel_num=1, reduction=0.0625)))
