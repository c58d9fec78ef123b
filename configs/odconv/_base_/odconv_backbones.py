# The backbones of the ODConv COCO configs, defined once. A config inherits
# this file next to its detector and takes a backbone by name, e.g.
#   _base_ = ['./faster-rcnn_r50_fpn_1x_coco.py',
#             './_base_/odconv_backbones.py']
#   model = dict(backbone={{_base_.odconv_backbones.od_resnet50_4x}})
# MMEngine substitutes the dict, which then merges into the detector's
# backbone as any override does. (The `odconv_backbones` variable itself
# stays in the final config, as MMEngine keeps every base variable.)
custom_imports = dict(imports=['mmdet_odconv'], allow_failed_imports=False)

odconv_backbones = dict(
    # OD-ResNet50, the paper's placement: every conv of every bottleneck is
    # ODConv (4 kernels, squeeze ratio 1/16); the 7x7 stem and the 1x1
    # shortcuts stay static. Fine-tuned as the official detection configs:
    # stem and stage 1 frozen, every BN (the attention's too) in eval mode.
    # Weights: the official OD-ResNet50 (4x) ImageNet checkpoint, converted
    # with tools/model_converters/odconv_official_to_mmdet.py.
    od_resnet50_4x=dict(
        type='ODResNet',
        odconv=dict(kernel_num=4, reduction=0.0625),
        stage_with_odconv=(True, True, True, True),
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/od_resnet50_4x_mmdet.pth')),
    # MobileNetV2 (1.0x) replacing a detector's ResNet: FPN inputs from its
    # 24, 32, 96 and 1280-channel stages (the official out_indices=(1, 2,
    # 3, 4) in its own indexing). The official frozen_stages=1 freezes, in
    # that indexing, the stem and the 16- and 24-channel blocks:
    # MMDetection's conv1, layer1 and layer2, i.e. frozen_stages=2 here.
    # A detector taking it also sets neck=dict(in_channels=[24, 32, 96,
    # 1280]).
    mobilenetv2=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.0,
        out_indices=(1, 2, 4, 7),
        frozen_stages=2,
        norm_eval=True,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/mobilenetv2_1x_imagenet.pth')),
    # OD-MobileNetV2 (1.0x, 4 kernels): every conv but the 3x3 stem is
    # ODConv. An override of `mobilenetv2` above, for configs inheriting a
    # MobileNetV2 detector.
    od_mobilenetv2_4x=dict(
        type='ODMobileNetV2',
        odconv=dict(kernel_num=4, reduction=0.0625),
        init_cfg=dict(checkpoint='checkpoints/od_mobilenetv2_4x_mmdet.pth')))
