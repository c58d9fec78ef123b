"""An official COCO detector, converted, is evaluated by tools/test.py to
COCO metrics, predicting exactly what its unconverted weights do."""
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from tests.test_checkpoints.test_official_layout import (COCO_IDS,
                                                             OFFICIAL_MODELS,
                                                             detector,
                                                             mmdet2_checkpoint,
                                                             random_state)
from tools import test as test_tool
from tools.model_converters.odconv_official_to_mmdet import main as convert

SLOW = pytest.mark.slow  # the larger models
# COCO category ids (not 0..79) for the objects of the tiny set
OBJECTS = [(1, (8, 10, 40, 60)), (18, (50, 30, 36, 44)),
           (90, (20, 70, 30, 20)), (3, (60, 8, 30, 24))]


@pytest.fixture(scope='module')
def coco80(tmp_path_factory):
    """Three 96x96 images in COCO format with COCO's 80 categories and
    their real ids; each image has two boxes with polygons."""
    import cv2
    from mmdet.datasets import CocoDataset
    root = tmp_path_factory.mktemp('coco80')
    (root / 'images').mkdir()
    (root / 'annotations').mkdir()
    rng = np.random.default_rng(0)
    images, anns = [], []
    for i in range(3):
        img = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
        for cat, (x, y, w, h) in (OBJECTS[i], OBJECTS[i + 1]):
            img[y:y + h, x:x + w] = 40 * (cat % 6)
            poly = [x, y, x + w, y, x + w, y + h, x, y + h]
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=i + 1,
                    category_id=cat,
                    bbox=[x, y, w, h],
                    area=w * h,
                    segmentation=[poly],
                    iscrowd=0))
        cv2.imwrite(str(root / 'images' / f'{i}.jpg'), img)
        images.append(
            dict(id=i + 1, file_name=f'{i}.jpg', width=96, height=96))
    classes = CocoDataset.METAINFO['classes']
    cats = [dict(id=i, name=n) for i, n in zip(COCO_IDS, classes)]
    with open(root / 'annotations' / 'val.json', 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    return root


def _options(root):
    """Point the COCO config at the tiny set; score every box, so that the
    random weights' predictions are evaluated, not filtered away."""
    ann = str(root / 'annotations' / 'val.json')
    return [
        f'test_dataloader.dataset.data_root={root}/',
        'test_dataloader.dataset.ann_file=annotations/val.json',
        'test_dataloader.dataset.data_prefix.img=images/',
        'test_dataloader.dataset.pipeline.1.scale=(96,96)',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'test_evaluator.ann_file={ann}', 'model.test_cfg.rpn.max_per_img=50',
        'model.test_cfg.rcnn.score_thr=0.0'
    ]


def _evaluate(config, checkpoint, root, work):
    out = work / 'preds.pkl'
    metrics = test_tool.main([
        config,
        str(checkpoint), '--work-dir',
        str(work), '--out',
        str(out), '--cfg-options', *_options(root)
    ])
    with open(out, 'rb') as f:
        return metrics, pickle.load(f)


@pytest.mark.parametrize(
    'name',
    [
        'faster_rcnn_r50_fpn_1x_coco',  # the four backbones, both detectors
        pytest.param('faster_rcnn_odconv4x_r50_fpn_1x_coco', marks=SLOW),
        pytest.param('mask_rcnn_mobilenetv2_100_fpn_1x_coco', marks=SLOW),
        pytest.param(
            'mask_rcnn_odconv4x_mobilenetv2_100_fpn_1x_coco', marks=SLOW)
    ])
def test_converted_detector_runs_to_coco_metrics(coco80, tmp_path, name):
    from mmdet.datasets import CocoDataset
    entries = detector(name)
    state = random_state(entries)
    src = tmp_path / 'official.pth'
    torch.save(mmdet2_checkpoint(state, CocoDataset.METAINFO['classes']), src)
    config = osp.join('configs/odconv', OFFICIAL_MODELS[name]['config'])
    dst = tmp_path / 'converted.pth'
    assert convert([str(src), str(dst), '--config', config]) == 0
    src.unlink()
    by_hand = tmp_path / 'by_hand.pth'
    torch.save(
        {'state_dict': {
            ours: state[k]
            for k, ours, _, _ in entries if ours
        }}, by_hand)

    metrics, preds = _evaluate(config, dst, coco80, tmp_path / 'converted')
    tasks = ('bbox', 'segm') if OFFICIAL_MODELS[name]['mask'] else ('bbox', )
    for task in tasks:  # (-1: no ground truth of that size)
        for key in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'):
            assert -1 <= metrics[f'coco/{task}_{key}'] <= 1, (task, key)
        assert metrics[f'coco/{task}_mAP'] >= 0
    assert len(preds) == 3
    labels = torch.cat([p['pred_instances']['labels'] for p in preds])
    assert len(labels) > 0 and 0 <= labels.min() and labels.max() < 80

    hand_metrics, hand_preds = _evaluate(config, by_hand, coco80,
                                         tmp_path / 'by_hand')
    assert hand_metrics == metrics
    for got, want in zip(preds, hand_preds):
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(got['pred_instances'][key],
                               want['pred_instances'][key]), key
