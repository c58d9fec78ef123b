"""Model benchmark: Faster R-CNN R50-FPN, static vs ODConv 1x vs ODConv 4x.

Inference (batch 1) and a training step (batch 2, no optimiser step) of the
configs/odconv/ detectors, interleaved, on demo images; ``--amp-steps N``
instead trains N steps with MMEngine's ``AmpOptimWrapper``.
"""
import argparse
import math
import os
import sys
from typing import Any, Dict, Sequence

import torch
import torch.nn as nn
from harness import (DTYPES, HERE, Call, add_common_args, autocast, measure,
                     meta, prepare, write)
from report import amp_markdown, model_markdown

from mmdet_odconv.tools_support import build_detector

CONFIGS = dict(
    baseline='configs/odconv/faster-rcnn_r50_fpn_1x_coco.py',
    odconv1x='configs/odconv/faster-rcnn_r50-odconv1x_fpn_1x_coco.py',
    odconv4x='configs/odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py')


def batch(model: nn.Module, size: int, shape: Sequence[int], train: bool):
    """A preprocessed ``mmdet.testing.demo_mm_inputs`` batch."""
    from mmdet.testing import demo_mm_inputs
    data = model.data_preprocessor(demo_mm_inputs(
        batch_size=size, image_shapes=(3, *shape), num_items=[5] * size,
        num_classes=80), train)
    return data['inputs'], data['data_samples']


def task_call(model: nn.Module, task: str, shape: Sequence[int],
              dtype: torch.dtype) -> Call:
    """``model.predict`` at B=1 under no_grad, or ``model.loss`` and
    backward at B=2."""
    train = task == 'train'
    inputs, samples = batch(model, 2 if train else 1, shape, train)
    model.train(train)

    def call() -> None:
        if not train:
            with torch.no_grad(), autocast(inputs.device, dtype):
                return model.predict(inputs, samples)
        model.zero_grad(set_to_none=True)
        with autocast(inputs.device, dtype):
            losses = model.loss(inputs, samples)
        model.parse_losses(losses)[0].backward()

    return call


def amp_steps(model: nn.Module, steps: int, shape: Sequence[int],
              dtype: str) -> Dict[str, Any]:
    """``steps`` SGD steps with AmpOptimWrapper (dynamic loss scale) in
    ``dtype``, float16 for float32."""
    from mmengine.optim import AmpOptimWrapper
    wrapper = AmpOptimWrapper(
        dtype='float16' if dtype == 'float32' else dtype,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.002, momentum=0.9))
    inputs, samples = batch(model, 2, shape, True)
    model.train()
    loss, scale = [], []
    for _ in range(steps):
        with wrapper.optim_context(model):
            total = model.parse_losses(model.loss(inputs, samples))[0]
        wrapper.update_params(total)
        loss.append(total.item())
        scale.append(float(wrapper.loss_scaler.get_scale()))
    return dict(loss=loss, scale=scale, finite=all(map(math.isfinite, loss)),
                stable=len(set(scale[steps // 2:])) == 1)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p)
    p.set_defaults(min_run_time=1.0)
    p.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'),
                   help='image size (default 800 1333 on CUDA, 320 512 on '
                   'CPU, 128 192 with --quick)')
    p.add_argument('--models', nargs='+', choices=list(CONFIGS),
                   default=list(CONFIGS))
    p.add_argument('--amp-steps', type=int, metavar='N', help='instead of '
                   'timing, train N steps with AmpOptimWrapper in --dtype '
                   '(float16 if float32); CUDA only')
    args = p.parse_args()
    if args.amp_steps and args.device != 'cuda':
        p.error('--amp-steps needs --device cuda (AmpOptimWrapper needs it)')
    args.shape = args.shape or ([128, 192] if args.quick else [
        800, 1333] if args.device == 'cuda' else [320, 512])
    info = prepare(args, 'amp' if args.amp_steps else 'model')
    torch.manual_seed(0)
    models, data = {}, dict(params={}, results={}, amp={})
    for name in args.models:
        models[name] = model = build_detector(os.path.join(
            os.path.dirname(HERE), CONFIGS[name])).to(args.device)
        data['params'][name] = sum(p.numel() for p in model.parameters())
        if args.amp_steps:
            data['amp'][name] = amp_steps(model, args.amp_steps, args.shape,
                                          args.dtype)
    for task in () if args.amp_steps else ('infer', 'train'):
        calls = {name: task_call(model, task, args.shape, DTYPES[args.dtype])
                 for name, model in models.items()}
        data['results'][task] = measure(calls, args.rounds, args.min_run_time,
                                        memory=args.device == 'cuda')
    data['meta'] = meta(args, info, shape=args.shape,
                        rounds=0 if args.amp_steps else args.rounds,
                        configs={m: CONFIGS[m] for m in models})
    lines = (amp_markdown if args.amp_steps else model_markdown)(data)
    write(args.out, lines)
    print('\n'.join(lines[lines.index('') + 1:]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
