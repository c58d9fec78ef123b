# RTMDet-tiny, the static baseline of the RTMDet-tiny ODConv configs.
# MMDetection's config unchanged (CSPNeXt-tiny from its ImageNet checkpoint).
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
