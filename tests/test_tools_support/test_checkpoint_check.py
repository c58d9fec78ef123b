"""The checks of the checkpoints a config will load: local init_cfg files
must exist (remote ones are not checked)."""
from mmengine.config import Config

from mmdet_odconv.tools_support import missing_init_checkpoints


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
