# Ablation beyond the paper: RTMDet-s with ODConv (4 kernels) in the
# backbone (as rtmdet_s-odconv4x_8xb32-300e_coco.py, 32 layers) and in
# the CSPNeXtPAFPN neck (27 layers): the backbone's rule applied to the
# neck, i.e. every conv (1x1 reduce, stride-2 downsample, output convs and
# every conv of its CSP layers) is ODConv except the CSP layers' partial
# shortcut convs. 59 ODConv layers; the head stays static. The neck has no
# pretrained weights; ODCSPNeXtPAFPN keeps ODConv's own initialisation under
# the neck's Kaiming init_cfg.
_base_ = './rtmdet_s-odconv4x_8xb32-300e_coco.py'

model = dict(neck=dict(type='ODCSPNeXtPAFPN', odconv=dict(kernel_num=4)))
