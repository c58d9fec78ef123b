"""tools/analysis_tools/pretrain_finetune_study.py: pretrained backbones load
strictly into the demo detectors; the quick study runs end to end."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tools.analysis_tools import pretrain_finetune_study as study

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the detection demo configs the pretrained backbones are meant for
DEMO = {
    'static': 'configs/demo/faster-rcnn_r18_fpn_demo.py',
    'od1x': 'configs/demo/faster-rcnn_r18-odconv1x_fpn_demo.py',
    'od4x': 'configs/demo/faster-rcnn_r18-odconv4x_fpn_demo.py',
}


@pytest.mark.parametrize('model', list(study.STUDY_MODELS))
def test_pretrained_backbone_loads_strictly_into_demo_detector(
        model, tmp_path):
    """Every backbone.* tensor of a pretraining config's classifier has a
    key of the same name and shape in the demo detector's backbone, and
    the other way round; MMEngine's Pretrained init (the fine-tuning
    config's init_cfg) loads every one of them."""
    from mmengine.registry import MODELS, init_default_scope

    from mmdet_odconv.tools_support import build_detector
    from mmdet_odconv.workbench import backbone_fit, save_backbone
    _, cls_cfg, det_cfg = study.STUDY_MODELS[model]
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(study.CFG_DIR, cls_cfg))
    classifier = MODELS.build(cfg.model)
    classifier.init_weights()
    with torch.no_grad():  # weights no init would give
        for v in classifier.state_dict().values():
            if v.is_floating_point():
                v.add_(torch.randn_like(v))
    path = str(tmp_path / 'backbone.pth')
    saved = save_backbone(classifier, path)
    stripped = {k[len('backbone.'):]: v for k, v in saved.items()}

    detector = build_detector(osp.join(ROOT, DEMO[model]))
    result = detector.backbone.load_state_dict(stripped, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for k, v in detector.backbone.state_dict().items():
        assert torch.equal(v, stripped[k]), k

    fit = backbone_fit(path, osp.join(study.CFG_DIR, det_cfg))
    assert fit['ok'], fit
    assert fit['num_tensors'] == len(stripped)


def test_backbone_fit_reports_a_backbone_of_another_model(tmp_path):
    """A static backbone is not an ODConv one: the check names the keys
    (although ODConv would inflate the static kernels on loading)."""
    from mmengine.registry import MODELS, init_default_scope

    from mmdet_odconv.workbench import backbone_fit, save_backbone
    init_default_scope('mmdet')
    cfg = Config.fromfile(
        osp.join(study.CFG_DIR, study.STUDY_MODELS['static'][1]))
    path = str(tmp_path / 'static.pth')
    save_backbone(MODELS.build(cfg.model), path)
    fit = backbone_fit(path,
                       osp.join(study.CFG_DIR, study.STUDY_MODELS['od4x'][2]))
    assert not fit['ok']
    assert any('attention' in k for k in fit['missing'])
    assert any(k.endswith('conv1.weight') for k in fit['mismatched'])


def test_finetune_configs_set_the_papers_detection_settings():
    """Each fine-tuning config is its demo config plus frozen_stages=1,
    norm_eval=True, a Pretrained backbone.* init, and no annealing."""
    from mmdet_odconv.tools_support import load_config
    for model, (_, _, det_cfg) in study.STUDY_MODELS.items():
        ft = load_config(osp.join(study.CFG_DIR, det_cfg)).to_dict()
        demo = load_config(osp.join(ROOT, DEMO[model])).to_dict()
        bb = ft['model']['backbone']
        assert (bb.pop('frozen_stages'), bb.pop('norm_eval')) == (1, True)
        init = bb.pop('init_cfg')
        assert init['type'] == 'Pretrained'
        assert init['prefix'] == 'backbone.'
        assert model in init['checkpoint']
        for key in ('frozen_stages', 'norm_eval', 'init_cfg'):
            demo['model']['backbone'].pop(key)
        assert ft['model'] == demo['model']
        assert [h['type'] for h in ft['custom_hooks']] == ['RNGStateHook']
        for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                    'train_dataloader'):
            assert ft[key] == demo[key], key


def test_scale_iterations_stretches_the_whole_schedule():
    from mmdet_odconv.tools_support import load_config
    cfg = load_config(
        osp.join(study.CFG_DIR, study.STUDY_MODELS['od4x'][1]))
    n = cfg.train_cfg.max_iters
    assert study.scale_iterations(cfg, None) == {}
    assert study.scale_iterations(cfg, n) == {}
    opts = study.scale_iterations(cfg, 1000)
    assert opts['train_cfg.max_iters'] == 1000
    warmup, steps = opts['param_scheduler']
    assert (warmup['type'], warmup['begin'], warmup['end']) == ('LinearLR',
                                                               0, 20)
    assert steps['milestones'] == [750]  # the step at 75%
    assert steps['end'] == 1000
    (anneal, ) = [h for h in opts['custom_hooks']
                  if h['type'] == 'ODConvTemperatureHook']
    assert anneal['duration'] == 100  # the first 10%
    assert opts['default_hooks.checkpoint.interval'] == 250
    tiny = study.scale_iterations(cfg, 3)
    assert tiny['param_scheduler'][0]['end'] == 1  # never empty


def test_tables_mean_and_sample_std_over_seeds(tmp_path):
    """The summary row is the mean +- sample std (n-1) of the seeds, the
    per-run rows the values; the figure is a PNG."""
    def run(model, seed, top1, ap):
        return dict(model=model, seed=seed,
                    pretrain=dict(top1=top1, top5=top1 + 10, minutes=2.0,
                                  iters=100, s_per_iter=0.5),
                    load_check=dict(ok=True),
                    finetune=dict(bbox_mAP=ap, bbox_mAP_50=ap + 0.1,
                                  bbox_mAP_75=ap, train_minutes=3.0,
                                  iters=50))

    results = dict(runs={
        'static-seed0': run('static', 0, 40.0, 0.30),
        'static-seed1': run('static', 1, 44.0, 0.34),
        'od4x-seed0': run('od4x', 0, 50.0, 0.40),
        'od4x-seed1': dict(model='od4x', seed=1),  # not finished
    })
    text = study.format_tables(results, ['static', 'od1x', 'od4x'])
    # mean 42, sample std of (40, 44) = 2.83; AP x100: 32 +- 2.83
    assert '| R18 | 2 | 42.0 ± 2.8 | 52.0 ± 2.8 | 32.0 ± 2.8 |' in text
    assert '| OD-R18 4x | 1 | 50.0 | 60.0 | 40.0 |' in text
    assert 'OD-R18 1x' not in text
    assert '| od4x-seed1 | - | - | - | - |' in text
    png = tmp_path / 'r.png'
    assert study.plot_results(results, ['static', 'od4x'], str(png))
    assert png.read_bytes()[:4] == b'\x89PNG'
    assert not study.plot_results(dict(runs={}), ['static'],
                                  str(tmp_path / 'none.png'))


def test_quick_study_runs_and_resumes(tmp_path, capsys):
    """--quick: pretrain -> strict load -> fine-tune -> box AP (OD-R18 4x,
    the path with ODConv); tables, figure and json written; a second call
    skips the finished run."""
    out = tmp_path / 'study'
    argv = ['--quick', '--models', 'od4x', '--out', str(out)]
    assert study.main(argv) == 0
    results = json.loads((out / 'results.json').read_text())
    assert list(results['runs']) == ['od4x-seed0']
    run = results['runs']['od4x-seed0']
    fit = run['load_check']
    assert fit['ok'] and not fit['missing'] and not fit['unexpected']
    assert fit['num_tensors'] > 0
    assert 0 <= run['pretrain']['top1'] <= run['pretrain']['top5'] <= 100
    assert run['pretrain']['iters'] == study.QUICK_ITERS['cls']
    assert run['finetune']['iters'] == study.QUICK_ITERS['det']
    assert isinstance(run['finetune']['bbox_mAP'], float)
    assert 0 <= run['finetune']['bbox_mAP'] <= 1
    assert (out / 'runs' / 'od4x-seed0' / 'backbone.pth').is_file()
    assert '| OD-R18 4x | 1 |' in (out / 'results.md').read_text()
    assert (out / 'results.png').read_bytes()[:4] == b'\x89PNG'
    capsys.readouterr()
    assert study.main(argv) == 0
    assert 'od4x-seed0: done, skipped' in capsys.readouterr().out
    assert json.loads((out / 'results.json').read_text()) == results


def test_a_classification_set_of_another_recipe_is_refused(tmp_path,
                                                            capsys):
    """An existing set generated with other sizes is neither silently used
    nor replaced: the tool stops with the reason (exit status 1)."""
    from mmdet_odconv.workbench import generate_shapes_cls
    data = tmp_path / 'cls'
    generate_shapes_cls(str(data), train_per_class=1, val_per_class=1,
                        image_size=32)
    before = sorted(p.name for p in data.iterdir())
    argv = ['--cls-data', str(data), '--out', str(tmp_path / 'out'),
            '--models', 'static']
    assert study.main(argv) == 1
    assert 'other arguments' in capsys.readouterr().err
    assert sorted(p.name for p in data.iterdir()) == before
    args = study.parse_args(argv + ['--cls-per-class', '1', '1',
                                    '--cls-image-size', '32'])
    assert (args.cls_per_class, args.cls_image_size) == ([1, 1], 32)
