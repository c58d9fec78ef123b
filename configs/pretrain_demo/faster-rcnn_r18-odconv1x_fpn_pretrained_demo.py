# The ODConv 1x demo detector fine-tuned from the backbone pretrained by
# resnet18-odconv1x_shapes-cls_demo.py, with the paper's detection
# settings: frozen_stages=1, norm_eval=True (which also keeps the BN inside
# each ODConv attention squeeze in eval mode) and temperature 1 throughout
# (no annealing hook). Data, optimizer and schedule are the demo's.
_base_ = '../demo/faster-rcnn_r18-odconv1x_fpn_demo.py'

pretrained = 'work_dirs/study/runs/od1x-seed0/backbone.pth'
model = dict(
    backbone=dict(
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(
            _delete_=True,  # the demo's is None
            type='Pretrained',
            prefix='backbone.',
            checkpoint=pretrained)))

custom_hooks = [dict(type='RNGStateHook')]  # no temperature annealing
