"""faster-coco-eval gives pycocotools' metrics and switches in cleanly."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip('faster_coco_eval')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _detections(ann_file, seed=0):
    """Jittered ground-truth boxes with scores, plus some false positives."""
    rng = np.random.default_rng(seed)
    gt = json.load(open(ann_file))
    dets = []
    for a in gt['annotations']:
        x, y, w, h = a['bbox']
        jit = rng.normal(0, 0.1, 4) * [w, h, w, h]
        cat = a['category_id'] if rng.random() > 0.2 else 1
        dets.append(dict(image_id=a['image_id'], category_id=cat,
                         bbox=[float(v) for v in np.array([x, y, w, h]) +
                               jit], score=float(rng.random())))
    for img in gt['images'][:5]:
        dets.append(dict(image_id=img['id'], category_id=2,
                         bbox=[5.0, 5.0, 20.0, 20.0], score=0.9))
    return dets


def _stats(coco_cls, eval_cls, ann_file, dets):
    gt = coco_cls(ann_file)
    dt = gt.loadRes(dets)
    ev = eval_cls(gt, dt, 'bbox')
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return np.array(ev.stats)


def test_same_metrics_as_pycocotools_on_the_demo_data(tiny_data):
    from faster_coco_eval import COCO as FCOCO
    from faster_coco_eval import COCOeval_faster
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    ann = str(tiny_data / 'annotations' / 'instances_val.json')
    dets = _detections(ann)
    ref = _stats(COCO, COCOeval, ann, dets)
    fast = _stats(FCOCO, COCOeval_faster, ann, dets)
    assert ref[0] > 0.1
    np.testing.assert_allclose(fast[:12], ref[:12], atol=1e-6)


def test_env_switch_of_the_tools_replaces_mmdet_coco_api():
    """tools/test.py (and train.py) switch before importing MMDetection."""
    code = ('import runpy\n'
            "runpy.run_path('tools/test.py', run_name='not_main')\n"
            'from mmdet.datasets.api_wrappers import coco_api\n'
            'mod = coco_api._COCOeval.__module__\n'
            'assert mod.startswith("faster_coco_eval"), mod\n'
            'assert coco_api._COCO.__module__.startswith("faster_coco_eval")'
            '\nprint("ok")')
    env = dict(os.environ, MMDET_ODCONV_FASTER_COCO_EVAL='1')
    r = subprocess.run([sys.executable, '-c', code], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'ok' in r.stdout, r.stderr[-2000:]


def test_importing_the_package_leaves_pycocotools_alone():
    """The switch no longer acts at import of mmdet_odconv."""
    code = ('import mmdet_odconv\n'
            'from mmdet.datasets.api_wrappers import coco_api\n'
            'print(coco_api._COCOeval.__module__)')
    env = dict(os.environ, MMDET_ODCONV_FASTER_COCO_EVAL='1')
    r = subprocess.run([sys.executable, '-c', code], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().startswith('pycocotools'), r.stdout


def test_enabling_after_mmdet_import_is_refused():
    from mmdet_odconv.workbench import use_faster_coco_eval
    import mmdet.datasets  # noqa: F401
    with pytest.raises(RuntimeError, match='MMDET_ODCONV_FASTER_COCO_EVAL'):
        use_faster_coco_eval()
