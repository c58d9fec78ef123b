"""Parameters and FLOPs of a detector or of its backbone, ODConv included.

  python tools/analysis_tools/get_flops.py CONFIG [--shape H W] [--backbone]

FLOPs follow MMDetection's convention: one multiply-add counts as one FLOP
(often written MAdds). ODConv layers are counted fully: squeeze and heads,
kernel-bank aggregation, attention multiplications and the convs. No
dataset is needed: a random image of ``--shape`` is used.
"""
import argparse
import sys


import torch
from mmengine.config import DictAction

import mmdet_odconv  # noqa: F401
from mmdet_odconv.complexity import complexity
from mmdet_odconv.tools_support import build_detector


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Get a detector\'s FLOPs')
    p.add_argument('config', help='config file path')
    p.add_argument('--shape', type=int, nargs='+', default=[1280, 800],
                   help='input image size (H W, or one number for both)')
    p.add_argument('--backbone', action='store_true',
                   help='count the backbone alone')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override settings in the config, as train.py')
    return p.parse_args(argv)


def _shape(shape):
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return tuple(shape)
    raise ValueError(f'--shape takes 1 or 2 numbers, got {shape}')


class _DetectorTensorForward(torch.nn.Module):
    """Run a detector's tensor-mode forward on fixed image metadata."""

    def __init__(self, detector, data_samples):
        super().__init__()
        self.detector = detector
        self.data_samples = data_samples

    def forward(self, inputs):
        return self.detector._forward(inputs, self.data_samples)


def measure(config: str, shape=(1280, 800), backbone: bool = False,
            cfg_options=None) -> dict:
    """Build the model of ``config`` (without weights) and count it."""
    model = build_detector(config, cfg_options)
    h, w = _shape(list(shape))
    model.eval()
    if backbone:
        return complexity(model.backbone, (torch.randn(1, 3, h, w), ))
    from mmdet.testing import demo_mm_inputs
    packed = demo_mm_inputs(1, [[3, h, w]], num_items=[1])
    data = model.data_preprocessor(packed, False)
    wrapper = _DetectorTensorForward(model, data['data_samples'])
    return complexity(wrapper, (data['inputs'], ))


def main(argv=None) -> int:
    args = parse_args(argv)
    h, w = _shape(args.shape)
    r = measure(args.config, (h, w), args.backbone, args.cfg_options)
    what = 'backbone' if args.backbone else 'detector'
    sep = '=' * 60
    print(f'{sep}\nConfig: {args.config} ({what})\nInput shape: '
          f'(1, 3, {h}, {w})\nFlops: {r["flops"] / 1e9:.3f} GFLOPs\n'
          f'Params: {r["params"] / 1e6:.3f} M\nODConv layers: '
          f'{int(r["odconv_layers"])}, {r["odconv_flops"] / 1e9:.3f} '
          f'GFLOPs inside them\nConvention: 1 FLOP = 1 multiply-add '
          '(MAdds), as MMDetection reports; element-wise products count '
          f'1 each.\n{sep}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
