"""The synthetic COCO generator: determinism, valid masks, atomic writes."""
import json
import os
import os.path as osp
import runpy
import sys

import numpy as np
import pytest

cv2 = pytest.importorskip('cv2')
pycoco = pytest.importorskip('pycocotools.coco')

from mmdet_odconv.tools_support import check_coco_annotations  # noqa: E402
from mmdet_odconv.workbench import shapes, synthetic_coco  # noqa: E402
from mmdet_odconv.workbench import (DEMO_CLASSES,  # noqa: E402
                                    generate_coco_dataset)

SMALL = dict(num_train=6, num_val=3, image_size=96)


def _snapshot(root):
    """Relative path -> bytes of every file under ``root``."""
    out = {}
    for d, _, files in os.walk(root):
        for name in files:
            path = osp.join(d, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    """One small dataset shared by the read-only tests."""
    out = str(tmp_path_factory.mktemp('coco') / 'demo')
    return generate_coco_dataset(out, seed=0, **SMALL)


def test_layout_and_summary(small):
    for split, n in (('train', 6), ('val', 3)):
        assert small[f'num_{split}_images'] == n
        coco = check_coco_annotations(small[f'{split}_ann_file'])
        assert [c['name'] for c in coco['categories']] == list(DEMO_CLASSES)
        assert [c['id'] for c in coco['categories']] == [1, 2, 3, 4, 5]
        assert len(coco['annotations']) == small[f'num_{split}_annotations']
        assert small[f'num_{split}_annotations'] >= n  # >= 1 per image
        for img in coco['images']:
            assert img['height'] == img['width'] == 96
            assert osp.basename(img['file_name']) == img['file_name']
            im = cv2.imread(osp.join(small[f'{split}_img_dir'],
                                     img['file_name']))
            assert im.shape == (96, 96, 3)
        for ann in coco['annotations']:
            assert ann['iscrowd'] == 0
            assert ann['area'] >= shapes.MIN_VISIBLE_PIXELS
            assert all(len(p) >= 6 and len(p) % 2 == 0
                       for p in ann['segmentation'])
    assert small['reused'] is False
    assert not small['out_dir'].endswith(os.sep)
    assert sorted(os.listdir(small['out_dir'])) == [
        'annotations', 'train', 'val'
    ]


def test_deterministic(small, tmp_path):
    again = generate_coco_dataset(str(tmp_path / 'again'), seed=0, **SMALL)
    a, b = _snapshot(small['out_dir']), _snapshot(again['out_dir'])
    assert sorted(a) == sorted(b)
    assert len(a) == 6 + 3 + 2
    for name in a:
        assert a[name] == b[name], name


def test_seeds_and_splits_differ(small, tmp_path):
    other = generate_coco_dataset(str(tmp_path / 's1'), seed=1, **SMALL)
    a, b = _snapshot(small['out_dir']), _snapshot(other['out_dir'])
    assert all(a[name] != b[name] for name in a)
    assert a[osp.join('train', '000001.png')] != a[osp.join(
        'val', '000001.png')]


def test_any_image_regenerates_alone(small):
    path = osp.join(small['val_img_dir'], '000002.png')
    rng = shapes.rng_for(0, 1, 1)  # seed 0, val, index 1
    image, _ = shapes.render_image(rng, 96)
    np.testing.assert_array_equal(cv2.imread(path), image)


@pytest.mark.filterwarnings('ignore:__array__ implementation')  # pycocotools
def test_masks_match_bbox_and_area(small):
    for split in ('train', 'val'):
        coco = pycoco.COCO(small[f'{split}_ann_file'])
        for ann in coco.loadAnns(coco.getAnnIds()):
            mask = coco.annToMask(ann).astype(bool)
            x, y, w, h = ann['bbox']
            inside = np.zeros_like(mask)
            inside[int(y):int(y + h), int(x):int(x + w)] = True
            assert not (mask & ~inside).any(), ann['id']
            ys, xs = np.nonzero(mask)
            # The polygons trace the visible mask closely, so the mask
            # nearly fills the visible bbox ...
            assert xs.min() - x <= 1 and ys.min() - y <= 1
            assert x + w - xs.max() - 1 <= 1 and y + h - ys.max() - 1 <= 1
            # ... and its pixel count is the visible area (contours through
            # pixel centres would lose ~12% here; these are exact in practice).
            assert abs(mask.sum() - ann['area']) <= max(
                2, 0.02 * ann['area']), ann['id']


def test_every_class_appears(tmp_path):
    info = generate_coco_dataset(str(tmp_path / 'big'), num_train=20,
                                 num_val=1, image_size=96)
    coco = check_coco_annotations(info['train_ann_file'])
    counts = np.bincount([a['category_id'] for a in coco['annotations']],
                         minlength=len(DEMO_CLASSES) + 1)[1:]
    assert (counts > 0).all(), counts
    per_image = np.bincount([a['image_id'] for a in coco['annotations']])
    assert per_image.max() > 1  # several objects per image
    sizes = [max(a['bbox'][2:]) for a in coco['annotations']]
    assert min(sizes) < 15 and max(sizes) > 25  # varied sizes


def test_reuse_and_overwrite(small, tmp_path, capsys):
    out = str(tmp_path / 'r')
    generate_coco_dataset(out, seed=0, **SMALL)
    ann = osp.join(out, 'annotations', 'instances_train.json')
    os.utime(ann, (1, 1))
    info = generate_coco_dataset(out, seed=0, **SMALL)
    assert info['reused'] is True and info['num_train_images'] == 6
    assert os.stat(ann).st_mtime == 1
    assert 'reusing' in capsys.readouterr().out
    # other arguments never silently get the old data
    with pytest.raises(ValueError, match=r'train seed: 0 there, 1 asked.*'
                       r'overwrite=True'):
        generate_coco_dataset(out, seed=1, **SMALL)
    with pytest.raises(ValueError, match='val images'):
        generate_coco_dataset(out, seed=0,
                              **dict(SMALL, num_val=SMALL['num_val'] + 1))
    info = generate_coco_dataset(out, seed=1, overwrite=True, **SMALL)
    assert info['reused'] is False and os.stat(ann).st_mtime != 1
    assert sorted(os.listdir(tmp_path)) == ['r']


def _fail_after(monkeypatch, n):
    """Make the PNG writer raise on its (n+1)-th call."""
    real = synthetic_coco._write_png
    calls = []

    def writer(path, image):
        calls.append(path)
        if len(calls) > n:
            raise RuntimeError('disk full (simulated)')
        real(path, image)

    monkeypatch.setattr(synthetic_coco, '_write_png', writer)
    return calls


def test_failure_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / 'demo'
    calls = _fail_after(monkeypatch, 3)
    with pytest.raises(RuntimeError, match='simulated'):
        generate_coco_dataset(str(out), **SMALL)
    assert len(calls) == 4
    assert os.listdir(tmp_path) == []


def test_failed_overwrite_keeps_old_dataset(small, tmp_path, monkeypatch):
    out = str(tmp_path / 'demo')
    generate_coco_dataset(out, seed=0, **SMALL)
    before = _snapshot(out)
    _fail_after(monkeypatch, 5)
    with pytest.raises(RuntimeError, match='simulated'):
        generate_coco_dataset(out, seed=3, overwrite=True, **SMALL)
    assert _snapshot(out) == before
    assert os.listdir(tmp_path) == ['demo']


def test_incomplete_dataset_is_regenerated(tmp_path):
    out = tmp_path / 'demo'
    (out / 'train').mkdir(parents=True)
    (out / 'train' / 'junk.png').write_bytes(b'x')
    info = generate_coco_dataset(str(out), seed=0, **SMALL)
    assert info['reused'] is False
    assert not (out / 'train' / 'junk.png').exists()


def test_refuses_to_replace_foreign_folder(tmp_path):
    (tmp_path / 'notes.txt').write_text('mine')
    with pytest.raises(ValueError, match='refusing to replace'):
        generate_coco_dataset(str(tmp_path), overwrite=True, **SMALL)
    assert (tmp_path / 'notes.txt').read_text() == 'mine'


def test_cli(tmp_path, monkeypatch, capsys):
    script = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'misc',
                      'make_demo_data.py')
    out = str(tmp_path / 'cli')
    argv = [script, '--out', out, '--num-train', '2', '--num-val', '1',
            '--size', '64', '--seed', '5']
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(script, run_name='__main__')
    text = capsys.readouterr().out
    assert f'wrote {out}' in text and 'train: 2 images' in text
    assert 'val: 1 images' in text
    monkeypatch.setattr(sys, 'argv', argv + ['--overwrite'])
    runpy.run_path(script, run_name='__main__')
    assert 'wrote' in capsys.readouterr().out
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(script, run_name='__main__')
    assert f'reused {out}' in capsys.readouterr().out


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='num_train'):
        generate_coco_dataset(str(tmp_path / 'x'), num_train=0)
    with pytest.raises(ValueError, match='image_size'):
        generate_coco_dataset(str(tmp_path / 'x'), image_size=8)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------
# check_coco_annotations
# --------------------------------------------------------------------------
def _valid():
    return dict(
        images=[dict(id=1, file_name='a.png', height=10, width=10)],
        annotations=[dict(id=1, image_id=1, category_id=1,
                          bbox=[0, 0, 4, 4], area=16, iscrowd=0)],
        categories=[dict(id=1, name='circle')])


def _without(key):
    data = _valid()
    del data[key]
    return data


def _with_ann(**kw):
    data = _valid()
    data['annotations'][0].update(kw)
    return data


def _dup_ann():
    data = _valid()
    data['annotations'].append(dict(data['annotations'][0]))
    return data


def _dup_image():
    data = _valid()
    data['images'].append(dict(data['images'][0], file_name='b.png'))
    return data


@pytest.mark.parametrize('content, message', [
    ('{"images": [', 'ends early, after 12 bytes'),
    ('<html><body>502 Bad Gateway</body></html>', 'HTML or XML page'),
    ('', 'it is empty'),
    ('[1, 2]', 'top level is a list'),
    (_without('images'), "missing key 'images'"),
    (_without('annotations'), "missing key 'annotations'"),
    (_without('categories'), "missing key 'categories'"),
    (dict(_valid(), images=[]), "'images' is empty"),
    (_with_ann(image_id=7), 'refers to image_id 7'),
    (_with_ann(image_id=[1]), 'refers to image_id [1]'),
    (_with_ann(category_id=9), 'refers to category_id 9'),
    (_with_ann(bbox=[0, 0, 4]), '4 non-negative numbers'),
    (_with_ann(bbox=[0, -1, 4, 4]), '4 non-negative numbers'),
    (_with_ann(bbox=[0, 0, '4', 4]), '4 non-negative numbers'),
    (_with_ann(bbox=None), '4 non-negative numbers'),
    (_with_ann(bbox=[1, 1, 0, 4]), 'zero-size bbox'),
    (_dup_ann(), "duplicate id 1 in 'annotations'"),
    (_dup_image(), "duplicate id 1 in 'images'"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None)
def test_check_rejects(tmp_path, content, message):
    path = tmp_path / 'bad.json'
    path.write_text(content if isinstance(content, str)
                    else json.dumps(content))
    with pytest.raises(ValueError) as err:
        check_coco_annotations(str(path))
    text = str(err.value)
    assert message in text
    assert str(path) in text and 'Fix' in text


def test_check_missing_file(tmp_path):
    with pytest.raises(ValueError, match='does not exist'):
        check_coco_annotations(str(tmp_path / 'none.json'))


def test_check_accepts(small, tmp_path):
    path = tmp_path / 'ok.json'
    path.write_text(json.dumps(_valid()))
    assert check_coco_annotations(str(path)) == _valid()
    coco = check_coco_annotations(small['val_ann_file'])
    assert len(coco['images']) == 3


def test_out_dir_below_a_file_is_refused_with_a_sentence(tmp_path):
    blocker = tmp_path / 'a-file'
    blocker.write_text('')
    with pytest.raises(ValueError, match=f'{blocker} is a file, not a '
                       'folder'):
        generate_coco_dataset(str(blocker / 'sub' / 'data'), num_train=1,
                              num_val=1, image_size=32)
