# Ablation beyond the paper: Faster R-CNN with OD-ResNet50 (4 kernels, as
# faster-rcnn_r50-odconv4x_fpn_1x_coco.py: 48 ODConv layers) and an FPN whose
# 4 lateral 1x1 and 4 output 3x3 convs are all ODConv (4 kernels): 56 ODConv
# layers. The FPN has no pretrained weights; ODFPN keeps ODConv's own
# initialisation under FPN's Xavier init_cfg. RPN and RoI heads stay static.
_base_ = './faster-rcnn_r50-odconv4x_fpn_1x_coco.py'

model = dict(neck=dict(type='ODFPN', odconv=dict(kernel_num=4)))
