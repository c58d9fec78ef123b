# YOLOX-s, the static baseline of the YOLOX-s ODConv configs.
# MMDetection's config unchanged (trained from scratch, no pretrained
# backbone).
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'
