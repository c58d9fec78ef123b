"""The tools stop before building anything, naming the file and the fix,
when a COCO annotation file is truncated or malformed or a pretrained
backbone file in ``init_cfg`` is missing; what they cannot read locally
they leave to MMEngine."""
import json
import shutil

import pytest

from mmdet_odconv.tools_support import AnnotationFileError
from tests.test_tools.test_train_test_e2e import CONFIG, tiny_options
from tools import demo
from tools import test as test_tool
from tools import train as train_tool

COCO_1X = 'configs/odconv/faster-rcnn_r50-odconv1x_fpn_1x_coco.py'


def _copy_with_bad_json(tiny_data, tmp_path, split, content):
    """A copy of the tiny dataset whose ``split`` annotations are broken."""
    root = tmp_path / 'data'
    shutil.copytree(tiny_data, root)
    (root / 'annotations' / f'instances_{split}.json').write_text(content)
    return root, str(root / 'annotations' / f'instances_{split}.json')


def _truncated(tiny_data, split):
    text = (tiny_data / 'annotations' / f'instances_{split}.json').read_text()
    return text[:len(text) // 2]


def test_train_and_test_name_a_truncated_annotation_file(tiny_data,
                                                         tmp_path):
    root, bad = _copy_with_bad_json(tiny_data, tmp_path, 'train',
                                    _truncated(tiny_data, 'train'))
    work = tmp_path / 'work'
    msg = train_tool.main([CONFIG, '--work-dir', str(work), '--cfg-options',
                           *tiny_options(root)])
    assert isinstance(msg, str)
    assert f'Invalid COCO annotation file {bad}' in msg
    assert 'ends early' in msg and 'cut short' in msg
    assert not work.exists()  # nothing built

    root, bad = _copy_with_bad_json(tiny_data, tmp_path / 't', 'val',
                                    '<html><body>Not Found</body></html>')
    ckpt = tmp_path / 'checked-after-the-data.pth'
    ckpt.write_bytes(b'')
    msg = test_tool.main([CONFIG, str(ckpt),
                          '--work-dir', str(work), '--cfg-options',
                          *tiny_options(root)])
    assert isinstance(msg, str)
    assert f'{bad}: it is not a JSON file: it is an HTML' in msg


def test_demo_names_a_malformed_annotation_file(tiny_data, tmp_path):
    coco = json.loads(
        (tiny_data / 'annotations' / 'instances_val.json').read_text())
    del coco['images']
    root, bad = _copy_with_bad_json(tiny_data, tmp_path, 'val',
                                    json.dumps(coco))
    with pytest.raises(AnnotationFileError) as e:
        demo.train_and_evaluate(CONFIG, str(tmp_path / 'w'), str(root))
    assert f"{bad}: missing key 'images'" in str(e.value)
    assert not (tmp_path / 'w').exists()


def test_missing_pretrained_backbone_stops_train_up_front(tiny_data,
                                                          tmp_path):
    """The COCO config's OD-ResNet50 init_cfg file is absent here: before,
    the runner and datasets were built and then FileNotFoundError."""
    root = str(tiny_data).rstrip('/') + '/'
    opts = []
    for loader, split in (('train_dataloader', 'train'),
                          ('val_dataloader', 'val')):
        opts += [f'{loader}.dataset.data_root={root}',
                 f'{loader}.dataset.ann_file=annotations/'
                 f'instances_{split}.json',
                 f'{loader}.dataset.data_prefix.img={split}/']
    opts.append(f'val_evaluator.ann_file={root}annotations/'
                'instances_val.json')
    work = tmp_path / 'work'
    msg = train_tool.main([COCO_1X, '--work-dir', str(work),
                           '--cfg-options', *opts])
    assert isinstance(msg, str)
    assert 'checkpoints/od_resnet50_1x_mmdet.pth ' \
        '(model.backbone.init_cfg.checkpoint)' in msg
    assert 'tools/model_converters/odconv_official_to_mmdet.py' in msg
    assert '--cfg-options model.backbone.init_cfg.checkpoint=' \
        'torchvision://resnet50' in msg
    assert not work.exists()


def test_test_out_that_cannot_be_written_stops_before_testing(tmp_path):
    blocker = tmp_path / 'a-file'
    blocker.write_text('')
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    msg = test_tool.main([CONFIG, str(ckpt), '--work-dir',
                          str(tmp_path / 'w'), '--out',
                          str(blocker / 'preds.pkl')])
    assert isinstance(msg, str) and 'is not a writable folder' in msg
    folder = tmp_path / 'preds.pkl'
    folder.mkdir()
    msg = test_tool.main([CONFIG, str(ckpt), '--out', str(folder)])
    assert isinstance(msg, str) and 'is a folder' in msg


def test_auto_resume_names_a_dangling_last_checkpoint(tiny_data, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text(str(work / 'iter_9.pth'))
    msg = train_tool.main([CONFIG, '--work-dir', str(work), '--resume',
                           '--cfg-options', *tiny_options(tiny_data)])
    assert isinstance(msg, str)
    assert f'checkpoint not found: {work}/iter_9.pth' in msg
    assert f'named in {work}/last_checkpoint' in msg
