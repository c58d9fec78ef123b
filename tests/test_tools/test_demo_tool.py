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
