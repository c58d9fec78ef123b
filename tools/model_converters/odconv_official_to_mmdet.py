"""Convert an official ODConv ImageNet checkpoint for our backbones.

  python tools/model_converters/odconv_official_to_mmdet.py \
      od_resnet50_4x.pth.tar checkpoints/od_resnet50_4x_mmdet.pth \
      --config configs/odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py

The output is ``{'state_dict': backbone weights}``, verified to load with
strict=True into the backbone of the given config, for
``init_cfg=dict(type='Pretrained', checkpoint=...)``. It is written
atomically: a failed conversion leaves no file behind.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mmdet_odconv  # noqa: E402,F401
from mmdet_odconv.converters import (convert_official_checkpoint,  # noqa
                                     save_atomic)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official ODConv checkpoint to MMDetection')
    parser.add_argument('src', help='official checkpoint (.pth / .pth.tar)')
    parser.add_argument('dst', help='output backbone checkpoint (.pth)')
    parser.add_argument(
        '--config',
        required=True,
        help='detector config whose backbone the weights are for (depth and '
        'kernel_num must match the checkpoint, e.g. configs/odconv/'
        'faster-rcnn_r50-odconv4x_fpn_1x_coco.py for od_resnet50_4x); the '
        'converted weights are checked against it (strict)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    backbone_cfg = Config.fromfile(args.config).model.backbone.to_dict()
    backbone_cfg.pop('init_cfg', None)
    target = MODELS.build(backbone_cfg)
    sd = convert_official_checkpoint(args.src, target)
    save_atomic({'state_dict': sd, 'meta': {'source': osp.basename(
        args.src), 'backbone': backbone_cfg}}, args.dst)
    print(f'wrote {len(sd)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
