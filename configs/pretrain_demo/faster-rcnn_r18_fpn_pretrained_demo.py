# The demo's Faster R-CNN fine-tuned from the backbone pretrained by
# resnet18_shapes-cls_demo.py, with the paper's detection settings: the
# stem and first stage frozen (frozen_stages=1), every BN in eval mode
# (norm_eval=True). Data, optimizer and schedule are the demo's.
# tools/analysis_tools/pretrain_finetune_study.py passes the checkpoint of
# each run; the default is its first static run's.
_base_ = '../demo/faster-rcnn_r18_fpn_demo.py'

pretrained = 'work_dirs/study/runs/static-seed0/backbone.pth'
model = dict(
    backbone=dict(
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(
            _delete_=True,  # the demo's is None
            type='Pretrained',
            prefix='backbone.',
            checkpoint=pretrained)))
