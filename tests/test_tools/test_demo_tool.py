"""tools/demo.py: its command line matches tools/train.py's."""
from tools import demo


def test_cfg_options_parse_like_train_py():
    args = demo.parse_args([
        '--cfg-options', 'train_cfg.max_iters=3',
        'model.backbone.conv_cfg.kernel_num=1', 'optim_wrapper.clip=[1,2]'
    ])
    assert args.cfg_options == {
        'train_cfg.max_iters': 3,
        'model.backbone.conv_cfg.kernel_num': 1,
        'optim_wrapper.clip': [1, 2],
    }
    assert demo.parse_args([]).cfg_options is None


def test_two_trainings_in_one_process_log_to_their_own_dirs(
        tiny_data, tmp_path):
    """benchmarks/demo_ap_table.py trains several configs in one process;
    MMEngine's visualizer is a named singleton, so each run must get its
    own or the second run's metrics land in the first run's work dir."""
    from tools.analysis_tools.collect_results import read_metrics
    opts = {'train_cfg.max_iters': 2, 'train_dataloader.batch_size': 2}
    dirs = [str(tmp_path / 'a'), str(tmp_path / 'b')]
    for wd in dirs:
        met = demo.train_and_evaluate(demo.DEFAULT_CONFIG, wd,
                                      str(tiny_data), opts)
        assert all(isinstance(v, float) for v in met.values()), met
    logged = [read_metrics(wd) for wd in dirs]
    assert all(m is not None and 'bbox_mAP' in m for m in logged)
    for wd in dirs:  # one run's log folder per work dir, not two
        scalars = list((tmp_path / wd).glob('*/vis_data/scalars.json'))
        assert len(scalars) == 1, scalars
        rows = scalars[0].read_text().splitlines()
        assert sum('coco/bbox_mAP' in r for r in rows) == 1, rows


def test_no_anneal_ablation_drops_only_the_temperature_hook(monkeypatch):
    """demo_ap_table.py --no-anneal trains the ODConv demo configs with
    every custom hook but ODConvTemperatureHook."""
    import sys
    monkeypatch.setattr(sys, 'path', list(sys.path))  # the script adds to it
    from benchmarks.demo_ap_table import NO_ANNEAL, RUNS
    from mmdet_odconv.tools_support import load_config
    od = [cfg for _, cfg in RUNS if 'odconv' in cfg]
    assert len(od) == 2
    for path in od:
        full = [h['type'] for h in load_config(path).custom_hooks]
        ablated = [h['type'] for h in
                   load_config(path, cfg_options=NO_ANNEAL).custom_hooks]
        assert 'ODConvTemperatureHook' in full
        assert ablated == [t for t in full if t != 'ODConvTemperatureHook']


def test_demo_configs_differ_only_where_they_say():
    """The 4x demo inherits the 1x one (only kernel_num differs), `make
    demo`'s config is the 4x one with zero-init attention heads, and the demo
    configs import the workbench, whose hooks they use."""
    from mmdet_odconv.tools_support import load_config
    od1, od4 = (load_config(f'configs/demo/faster-rcnn_r18-odconv{n}x_fpn_'
                            'demo.py').to_dict() for n in (1, 4))
    assert od1['model']['backbone']['odconv'].pop('kernel_num') == 1
    assert od4['model']['backbone']['odconv'].pop('kernel_num') == 4
    made = load_config(demo.DEFAULT_CONFIG).to_dict()
    assert made['model']['backbone']['odconv'].pop(
        'zero_init_attention') is True
    assert made['model']['backbone']['odconv'].pop('kernel_num') == 4
    made.pop('work_dir')
    assert made == {k: v for k, v in od4.items() if k != 'work_dir'}
    for cfg in (od1, od4):
        cfg.pop('work_dir')
    assert od1 == od4
    assert od4['custom_imports']['imports'] == [
        'mmdet_odconv', 'mmdet_odconv.workbench'
    ]


def test_drawings_never_replace_the_images_they_are_drawn_on(tmp_path):
    """--work-dir DATA/.. with vis/ a link to DATA/val: refused before the
    training, not after it."""
    import os
    data = tmp_path / 'data'
    (data / 'val').mkdir(parents=True)
    work = tmp_path / 'work'
    work.mkdir()
    os.symlink(data / 'val', work / 'vis')
    msg = demo.main(['--work-dir', str(work), '--data', str(data)])
    assert isinstance(msg, str) and 'is the val image folder' in msg
