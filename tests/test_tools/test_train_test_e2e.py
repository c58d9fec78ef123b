"""tools/train.py -> checkpoint -> tools/test.py -> pycocotools metrics."""
import glob
import os.path as osp

import pytest
import torch

from tools import test as test_tool
from tools import train as train_tool

CONFIG = 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py'


def tiny_options(data_root, iters=4, extra=()):
    """--cfg-options that shrink the demo to seconds on a tiny dataset."""
    root = str(data_root).rstrip('/') + '/'
    ann = root + 'annotations/instances_val.json'
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1', 'model.backbone.base_channels=8',
        'model.neck.in_channels=[8,16,32,64]', *extra
    ]


def test_train_save_test_reports_coco_metrics(tiny_data, tmp_path):
    work = tmp_path / 'work'
    assert train_tool.main([CONFIG, '--work-dir', str(work),
                            '--cfg-options', *tiny_options(tiny_data)]) == 0
    ckpts = glob.glob(str(work / 'iter_4.pth'))
    assert ckpts, 'no checkpoint written'
    ckpt = torch.load(ckpts[0], map_location='cpu')  # weights_only default
    assert ckpt['meta']['iter'] == 4
    assert any('attention.kernel_fc' in k for k in ckpt['state_dict'])
    out_pkl = tmp_path / 'preds.pkl'
    metrics = test_tool.main([
        CONFIG, ckpts[0], '--work-dir', str(tmp_path / 'test'), '--out',
        str(out_pkl), '--show-dir', 'vis', '--cfg-options',
        *tiny_options(tiny_data)
    ])
    for key in ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s',
                'bbox_mAP_m', 'bbox_mAP_l'):
        assert f'coco/{key}' in metrics, key
    assert out_pkl.exists()
    assert glob.glob(str(tmp_path / 'test' / '*' / 'vis' / '*.png'))

    # the results table reads the metrics the test run logged
    from tools.analysis_tools.collect_results import main as collect
    table_md = tmp_path / 'table.md'
    collect([str(tmp_path / 'test'), str(tmp_path / 'test'), '--names',
             'baseline', 'odconv', '--out', str(table_md)])
    lines = table_md.read_text().splitlines()
    assert lines[0].startswith('| model | AP | AP50 | AP75 | APs | APm')
    ap = 100 * metrics['coco/bbox_mAP']
    assert lines[2].split('|')[2].strip() == f'{ap:.1f}'
    assert lines[3].rstrip(' |').endswith('+0.0')


def test_missing_data_names_layout_and_fix(tmp_path, capsys):
    msg = train_tool.main(['configs/odconv/faster-rcnn_r50_fpn_1x_coco.py',
                           '--work-dir', str(tmp_path)])
    assert isinstance(msg, str)
    assert 'data/coco/annotations/instances_train2017.json' in msg
    assert 'train_dataloader.dataset.data_root=' in msg
    msg = train_tool.main([CONFIG, '--work-dir', str(tmp_path),
                           '--cfg-options',
                           'train_dataloader.dataset.data_root=nowhere/'
                           'odconv_demo/'])
    assert isinstance(msg, str) and 'make_demo_data.py' in msg
    assert not osp.exists(tmp_path / 'iter_1.pth')
