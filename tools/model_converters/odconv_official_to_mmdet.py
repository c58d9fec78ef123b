"""Convert an official ODConv checkpoint (OSVAI/ODConv) for our configs.

  python tools/model_converters/odconv_official_to_mmdet.py SRC DST \
      --config CONFIG

SRC is either an official ImageNet checkpoint (``od_resnet50_4x.pth.tar``):
DST is then the backbone weights for the config's
``init_cfg=dict(type='Pretrained', checkpoint=DST)``; or an official COCO
detector (MMDetection 2.x): DST is then an MMDetection 3.x checkpoint that
``tools/test.py CONFIG DST`` evaluates. Either way every tensor is checked
against the config's model, which loads DST with ``strict=True``, and DST
is written atomically: a failed conversion leaves no file behind.

With an MMPretrain classifier config (configs/pretrain, torch 2.1 stack),
an ImageNet checkpoint becomes the whole classifier, its ImageNet fc as
``head.fc``, which MMPretrain's tools/test.py evaluates.
"""
import argparse
import os.path as osp
import sys

import mmdet_odconv  # noqa: F401  (registers the OD backbones)
from mmdet_odconv.checkpoints import (check_destination, check_not_an_input,
                                      convert_backbone, convert_classifier,
                                      convert_detector, detector_meta,
                                      is_classifier, is_detector,
                                      load_official, save_atomic)
from mmdet_odconv.tools_support import build_detector, load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official ODConv checkpoint (ImageNet '
        'backbone or MMDetection 2.x COCO detector) to MMDetection 3')
    parser.add_argument('src', help='official checkpoint (.pth / .pth.tar)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--config',
        required=True,
        help='detector config the weights are for, e.g. configs/odconv/'
        'faster-rcnn_r50-odconv4x_fpn_1x_coco.py for od_resnet50_4x or for '
        'the official Faster R-CNN OD-R50 4x detector, or an MMPretrain '
        'config of configs/pretrain for a whole classifier; the converted '
        'weights are checked against it (strict)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    check_destination(args.dst)
    check_not_an_input(args.dst, [('checkpoint', args.src),
                                  ('config', args.config)])
    sd, src_meta = load_official(args.src)
    cfg = load_config(args.config)
    detector = build_detector(cfg)
    if is_detector(sd):
        out = convert_detector(sd, detector, args.src)
        meta = detector_meta(src_meta, args.src, args.config)
    elif is_classifier(detector):
        out = convert_classifier(sd, detector, args.src)
        meta = dict(source=osp.basename(args.src), config=args.config)
    else:
        out = convert_backbone(sd, detector.backbone, args.src)
        backbone_cfg = cfg.model.backbone.to_dict()
        backbone_cfg.pop('init_cfg', None)
        meta = dict(source=osp.basename(args.src), backbone=backbone_cfg)
    save_atomic({'meta': meta, 'state_dict': out}, args.dst)
    print(f'wrote {len(out)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (ValueError, OSError) as e:  # bad input: one line, no traceback
        sys.exit(f'{osp.basename(__file__)}: error: {e}')
