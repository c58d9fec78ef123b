# RTMDet-s, the static baseline of the RTMDet-s ODConv configs.
# MMDetection's config unchanged (CSPNeXt-s from its ImageNet checkpoint).
_base_ = 'mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py'
