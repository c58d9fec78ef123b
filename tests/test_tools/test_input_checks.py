"""The tools stop before building anything, naming the file and the fix,
when a COCO annotation file is truncated or malformed or a pretrained
backbone file in ``init_cfg`` is missing; what they cannot read locally
they leave to MMEngine."""
import json
import shutil

import pytest
from mmengine.config import Config

from mmdet_odconv.utils import check_annotations, check_data
from mmdet_odconv.utils import data_check
from mmdet_odconv.utils.checkpoint_check import missing_init_checkpoints
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
    with pytest.raises(SystemExit) as e:
        train_tool.main([CONFIG, '--work-dir', str(work), '--cfg-options',
                         *tiny_options(root)])
    msg = str(e.value)
    assert f'Invalid COCO annotation file {bad}' in msg
    assert 'ends early' in msg and 'cut short' in msg
    assert not work.exists()  # nothing built

    root, bad = _copy_with_bad_json(tiny_data, tmp_path / 't', 'val',
                                    '<html><body>Not Found</body></html>')
    ckpt = tmp_path / 'checked-after-the-data.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(SystemExit) as e:
        test_tool.main([CONFIG, str(ckpt),
                        '--work-dir', str(work), '--cfg-options',
                        *tiny_options(root)])
    assert f'{bad}: it is not a JSON file: it is an HTML' in str(e.value)


def test_demo_names_a_malformed_annotation_file(tiny_data, tmp_path):
    coco = json.loads(
        (tiny_data / 'annotations' / 'instances_val.json').read_text())
    del coco['images']
    root, bad = _copy_with_bad_json(tiny_data, tmp_path, 'val',
                                    json.dumps(coco))
    with pytest.raises(SystemExit) as e:
        demo.train_and_evaluate(CONFIG, str(tmp_path / 'w'), str(root))
    assert f"{bad}: missing key 'images'" in str(e.value)
    assert not (tmp_path / 'w').exists()


def test_an_evaluator_file_is_checked_like_the_datasets(tiny_data,
                                                        tmp_path):
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(
        dict(x.split('=', 1) for x in tiny_options(tiny_data)[:5]))
    cfg.val_evaluator.ann_file = str(tmp_path / 'gone.json')
    with pytest.raises(SystemExit, match='gone.json \\(val_evaluator\\)'):
        check_data(cfg, ['val_dataloader'], ['val_evaluator'])


def test_lenient_check_accepts_what_mmdetection_reads(tmp_path):
    """Test-dev files have no 'annotations'; other datasets (types that are
    not CocoDataset) are not read as COCO."""
    testdev = tmp_path / 'image_info_test-dev2017.json'
    testdev.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='a.jpg', height=4, width=4)],
        categories=[dict(id=1, name='person')])))
    cfg = Config(dict(
        test_dataloader=dict(dataset=dict(
            type='CocoDataset', data_root='', ann_file=str(testdev))),
        val_dataloader=dict(dataset=dict(
            type='VOCDataset', data_root='', ann_file=str(tmp_path /
                                                          'x.json')))))
    check_annotations(cfg, ['test_dataloader', 'val_dataloader'])
    testdev.write_text('{"images": []}')
    with pytest.raises(SystemExit, match="missing key 'categories'"):
        check_annotations(cfg, ['test_dataloader'])


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
    with pytest.raises(SystemExit) as e:
        train_tool.main([COCO_1X, '--work-dir', str(work), '--cfg-options',
                         *opts])
    msg = str(e.value)
    assert 'checkpoints/od_resnet50_1x_mmdet.pth ' \
        '(model.backbone.init_cfg.checkpoint)' in msg
    assert 'tools/model_converters/odconv_official_to_mmdet.py' in msg
    assert '--cfg-options model.backbone.init_cfg.checkpoint=' \
        'torchvision://resnet50' in msg
    assert not work.exists()


def test_only_local_init_checkpoints_are_checked(tmp_path):
    present = tmp_path / 'there.pth'
    present.write_bytes(b'')
    cfg = Config(dict(model=dict(
        backbone=dict(init_cfg=dict(type='Pretrained',
                                    checkpoint='torchvision://resnet50')),
        neck=dict(init_cfg=[
            dict(type='Pretrained', checkpoint='https://x.invalid/a.pth'),
            dict(type='Pretrained', checkpoint=str(present)),
            dict(type='Pretrained', checkpoint='gone.pth')
        ]),
        roi_head=dict(init_cfg=dict(type='Xavier', layer='Conv2d')))))
    assert missing_init_checkpoints(cfg) == [
        ('model.neck.init_cfg.checkpoint', 'gone.pth')
    ]


def test_test_out_that_cannot_be_written_stops_before_testing(tmp_path):
    blocker = tmp_path / 'a-file'
    blocker.write_text('')
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(SystemExit, match='is not a writable folder'):
        test_tool.main([CONFIG, str(ckpt), '--work-dir', str(tmp_path / 'w'),
                        '--out', str(blocker / 'preds.pkl')])
    folder = tmp_path / 'preds.pkl'
    folder.mkdir()
    with pytest.raises(SystemExit, match='is a folder'):
        test_tool.main([CONFIG, str(ckpt), '--out', str(folder)])


def test_auto_resume_names_a_dangling_last_checkpoint(tiny_data, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text(str(work / 'iter_9.pth'))
    with pytest.raises(SystemExit) as e:
        train_tool.main([CONFIG, '--work-dir', str(work), '--resume',
                         '--cfg-options', *tiny_options(tiny_data)])
    msg = str(e.value)
    assert f'checkpoint not found: {work}/iter_9.pth' in msg
    assert f'named in {work}/last_checkpoint' in msg


@pytest.mark.parametrize('root', ['s3://bucket/coco/', 'https://x.invalid/'])
def test_remote_data_is_left_to_mmengine(root):
    """Without backend_args too: a path with a scheme cannot be read here;
    a local path is checked whatever backend_args holds."""
    ds = dict(type='CocoDataset', data_root=root,
              ann_file='annotations/instances_val2017.json',
              data_prefix=dict(img='val2017/'))
    cfg = Config(dict(val_dataloader=dict(dataset=ds),
                      val_evaluator=dict(type='CocoMetric', ann_file=root +
                                         'annotations/x.json')))
    check_data(cfg, ['val_dataloader'], ['val_evaluator'])
    check_annotations(cfg, ['val_dataloader'], ['val_evaluator'])
    cfg.val_dataloader.dataset.data_root = 'nowhere/'
    cfg.val_dataloader.dataset.backend_args = dict(backend='local')
    with pytest.raises(SystemExit, match='nowhere/val2017/'):
        check_data(cfg, ['val_dataloader'])


def _coco(n_images=3):
    return dict(
        info=dict(description='a {braced} [text]'),
        images=[dict(id=i, file_name=f'{i}.jpg', height=4, width=4)
                for i in range(1, n_images + 1)],
        annotations=[dict(id=1, image_id=1, category_id=1,
                          bbox=[0, 0, 1, 1])],
        categories=[dict(id=1, name='a')])


def _write(tmp_path, text, name='ann.json'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_streaming_check_accepts_a_valid_file_without_loading_it(
        tmp_path, monkeypatch):
    """Only what surrounds the annotations list is parsed."""
    coco = _coco()
    coco['annotations'] *= 500
    path = _write(tmp_path, json.dumps(coco, indent=1))
    parsed = []

    def no_full_load(*args, **kwargs):
        raise AssertionError('the whole file was loaded')

    def loads(text, loads=json.loads):
        parsed.append(len(text))
        assert 'bbox' not in str(text), 'the annotations were parsed'
        return loads(text)

    monkeypatch.setattr(data_check, 'load_json', no_full_load)
    monkeypatch.setattr(data_check.json, 'loads', loads)
    monkeypatch.setattr(data_check, '_CHUNK', 7)  # keys across chunks
    monkeypatch.setattr(data_check, '_TAIL', 300)
    data_check.check_coco_file(path)
    assert sum(parsed) < 1000 < len(open(path).read())


@pytest.mark.parametrize('edit, problem', [
    (lambda t: t[:len(t) // 2], 'ends early'),
    (lambda t: t[:t.rindex('}', 0, len(t) - 1) + 1], 'ends early'),
    (lambda t: t.replace('"categories"', '"cats"'), "missing key "
     "'categories'"),
    (lambda t: t.replace('"images": [', '"images": {"x": [').replace(
        '], "annotations"', ']}, "annotations"'), "'images' is a dict"),
    (lambda t: t.replace('"id": 2,', '"id": 1,'), "duplicate id 1 in "
     "'images'"),
    (lambda t: t.replace('"annotations": [', '"annotations": {"a": [')
     .replace('], "categories"', ']}, "categories"'),
     "'annotations' is a dict"),
    (lambda t: '', 'it is empty'),
    (lambda t: '<html>Not Found</html>', 'an HTML or XML page'),
])
def test_streaming_check_keeps_the_messages_of_broken_files(
        tmp_path, edit, problem):
    for coco in (_coco(), dict(_coco(), info={})):
        path = _write(tmp_path, edit(json.dumps(coco)))
        with pytest.raises(ValueError, match=problem):
            data_check.check_coco_file(path)


def test_the_annotation_check_runs_on_rank_0_only(tmp_path, monkeypatch):
    bad = _write(tmp_path, '{"images": [')
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        type='CocoDataset', data_root='', ann_file=bad))))
    monkeypatch.setenv('RANK', '1')
    check_annotations(cfg, ['test_dataloader'])  # rank 0 checks
    monkeypatch.setenv('RANK', '0')
    with pytest.raises(SystemExit, match='ends early'):
        check_annotations(cfg, ['test_dataloader'])
    monkeypatch.delenv('RANK')
    monkeypatch.setenv('LOCAL_RANK', '3')
    check_annotations(cfg, ['test_dataloader'])
