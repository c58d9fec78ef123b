"""The data checks: local dataset files present, COCO annotation files
complete and well formed (read around their annotations list, once per
job); what cannot be read locally is left to MMEngine."""
import json

import pytest
from mmengine.config import Config

from mmdet_odconv.tools_support import (AnnotationFileError,
                                        DataNotFoundError, check_annotations,
                                        check_data, data_check)
from tests.test_tools.test_train_test_e2e import CONFIG, tiny_options


def test_an_evaluator_file_is_checked_like_the_datasets(tiny_data,
                                                        tmp_path):
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(
        dict(x.split('=', 1) for x in tiny_options(tiny_data)[:5]))
    cfg.val_evaluator.ann_file = str(tmp_path / 'gone.json')
    with pytest.raises(DataNotFoundError,
                       match='gone.json \\(val_evaluator\\)'):
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
    with pytest.raises(AnnotationFileError, match="missing key 'categories'"):
        check_annotations(cfg, ['test_dataloader'])


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
    with pytest.raises(DataNotFoundError, match='nowhere/val2017/'):
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
    with pytest.raises(AnnotationFileError, match='ends early'):
        check_annotations(cfg, ['test_dataloader'])
    monkeypatch.delenv('RANK')
    monkeypatch.setenv('LOCAL_RANK', '3')
    check_annotations(cfg, ['test_dataloader'])
