"""The generated classification set and the classifier that pretrains on it:
deterministic, balanced, atomic files; dataset, model and metric."""
import os
import os.path as osp

import numpy as np
import pytest
import torch

pytest.importorskip('cv2')

from mmdet_odconv.workbench import shapes_cls  # noqa: E402
from mmdet_odconv.workbench import (CLS_CLASSES,  # noqa: E402
                                    BackboneClassifier, ShapesClsDataset,
                                    TopKAccuracy, generate_shapes_cls,
                                    is_complete_shapes_cls, load_shapes_cls,
                                    save_backbone)

SMALL = dict(train_per_class=2, val_per_class=1, image_size=32)


def _snapshot(root):
    """File name -> bytes of every file in ``root``."""
    out = {}
    for name in sorted(os.listdir(root)):
        with open(osp.join(root, name), 'rb') as f:
            out[name] = f.read()
    return out


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('cls') / 'shapes')
    generate_shapes_cls(root, seed=0, **SMALL)
    return root


def test_same_seed_same_bytes_other_seed_other_images(small, tmp_path):
    again = str(tmp_path / 'again')
    generate_shapes_cls(again, seed=0, **SMALL)
    assert _snapshot(small) == _snapshot(again)
    other = str(tmp_path / 'other')
    generate_shapes_cls(other, seed=1, **SMALL)
    a, _ = load_shapes_cls(small, 'train')
    b, _ = load_shapes_cls(other, 'train')
    assert a.shape == b.shape
    assert not np.array_equal(a, b)


def test_classes_many_distinct_and_balanced(small):
    names = open(osp.join(small, 'classes.txt')).read().split()
    assert names == list(CLS_CLASSES)
    assert len(set(names)) == len(names) >= 50
    for split, per_class in (('train', 2), ('val', 1)):
        images, labels = load_shapes_cls(small, split)
        assert images.dtype == np.uint8
        assert images.shape == (per_class * len(names), 32, 32, 3)
        counts = np.bincount(labels, minlength=len(names))
        assert counts.tolist() == [per_class] * len(names)
    # train and val are drawn from different streams
    train, _ = load_shapes_cls(small, 'train')
    val, _ = load_shapes_cls(small, 'val')
    assert not any(np.array_equal(v, t) for v in val[:5] for t in train)


def test_images_are_varied(small):
    """No two images alike, and each has more than a background: at
    least some pixels far from the image's median colour."""
    images, _ = load_shapes_cls(small, 'train', mmap=False)
    flat = images.reshape(len(images), -1)
    assert len(np.unique(flat, axis=0)) == len(images)
    med = np.median(images.reshape(len(images), -1, 3), axis=1)
    far = np.abs(images.astype(int) - med[:, None, None]).max(-1) > 60
    assert (far.mean(axis=(1, 2)) > 0.02).mean() > 0.9


def test_nothing_half_written_on_failure(tmp_path, monkeypatch):
    root = tmp_path / 'shapes'
    real = shapes_cls._draw_split

    def fail_on_val(split, *args):
        if split == 'val':
            raise RuntimeError('interrupted')
        return real(split, *args)

    monkeypatch.setattr(shapes_cls, '_draw_split', fail_on_val)
    with pytest.raises(RuntimeError, match='interrupted'):
        generate_shapes_cls(str(root), **SMALL)
    assert os.listdir(tmp_path) == []  # no folder, no temporary sibling
    # an existing set survives a failed regeneration untouched
    monkeypatch.setattr(shapes_cls, '_draw_split', real)
    generate_shapes_cls(str(root), **SMALL)
    before = _snapshot(str(root))
    monkeypatch.setattr(shapes_cls, '_draw_split', fail_on_val)
    with pytest.raises(RuntimeError):
        generate_shapes_cls(str(root), overwrite=True, **SMALL)
    assert _snapshot(str(root)) == before
    assert os.listdir(tmp_path) == ['shapes']


def test_reuse_and_refusals(small, tmp_path):
    assert generate_shapes_cls(small, seed=0, **SMALL)['reused'] is True
    with pytest.raises(ValueError, match='other arguments'):
        generate_shapes_cls(small, seed=0, train_per_class=3,
                            val_per_class=1, image_size=32)
    foreign = tmp_path / 'mine'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('keep')
    with pytest.raises(ValueError, match='refusing to replace'):
        generate_shapes_cls(str(foreign), **SMALL)
    assert (foreign / 'notes.txt').read_text() == 'keep'
    assert not is_complete_shapes_cls(str(tmp_path / 'absent'))
    with pytest.raises(FileNotFoundError, match='generate_shapes_cls'):
        load_shapes_cls(str(tmp_path / 'absent'), 'train')
    with pytest.raises(ValueError, match='image_size'):
        generate_shapes_cls(str(tmp_path / 'x'), image_size=8)


def test_dataset_samples_and_augmentation(small):
    images, labels = load_shapes_cls(small, 'train')
    val = ShapesClsDataset(small, split='val')
    assert len(val) == len(CLS_CLASSES) and not val.augment
    assert val.metainfo['classes'] == CLS_CLASSES
    sample = val[3]
    vimg, vlab = load_shapes_cls(small, 'val')
    assert sample['data_samples'] == int(vlab[3])
    assert torch.equal(sample['inputs'],
                       torch.from_numpy(vimg[3].transpose(2, 0, 1).copy()))
    train = ShapesClsDataset(small, split='train', crop_padding=3,
                             flip_prob=0.5)
    assert train.augment
    np.random.seed(0)
    out = train[5]['inputs'].numpy().transpose(1, 2, 0)
    # the reference: pad by 3, crop at the same offset, maybe flip
    np.random.seed(0)
    dy, dx = np.random.randint(-3, 4, size=2)
    flip = np.random.random() < 0.5
    padded = np.pad(images[5], ((3, 3), (3, 3), (0, 0)))
    ref = padded[3 + dy:3 + dy + 32, 3 + dx:3 + dx + 32]
    ref = ref[:, ::-1] if flip else ref
    np.testing.assert_array_equal(out, ref)


def test_topk_accuracy_against_hand_count():
    metric = TopKAccuracy(topk=(1, 2))
    scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2],
                           [0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    gts = [1, 1, 0, 1]  # ranks 0, 1, 2, 2
    metric.process(None, [dict(pred_score=s, gt_label=g)
                          for s, g in zip(scores, gts)])
    assert metric.compute_metrics(metric.results) == dict(top1=25.0,
                                                          top2=50.0)
    with pytest.raises(ValueError, match='topk'):
        TopKAccuracy(topk=(0, ))


def test_classifier_modes_and_backbone_checkpoint(tmp_path):
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    model = BackboneClassifier(
        backbone=dict(type='ResNet', depth=18, base_channels=8,
                      out_indices=(3, )),
        num_classes=5,
        data_preprocessor=dict(type='ImgDataPreprocessor'))
    x = torch.randn(2, 3, 32, 32)
    assert model(x).shape == (2, 5)
    labels = torch.tensor([1, 4])
    loss = model(x, labels, mode='loss')['loss']
    model.eval()
    ref = torch.nn.functional.cross_entropy(model(x), labels)
    torch.testing.assert_close(model(x, labels, mode='loss')['loss'], ref)
    assert loss.requires_grad
    preds = model(x, labels, mode='predict')
    assert [p['gt_label'] for p in preds] == [1, 4]
    torch.testing.assert_close(preds[0]['pred_score'].sum(),
                               torch.tensor(1.0))
    path = str(tmp_path / 'sub' / 'backbone.pth')
    saved = save_backbone(model, path, meta=dict(top1=1.0))
    ckpt = torch.load(path, weights_only=True)
    assert set(ckpt['state_dict']) == set(saved) == {
        k for k in model.state_dict() if k.startswith('backbone.')}
    assert ckpt['meta'] == dict(top1=1.0)
    assert os.listdir(tmp_path / 'sub') == ['backbone.pth']
