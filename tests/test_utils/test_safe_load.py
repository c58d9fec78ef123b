"""weights_only loading of MMEngine checkpoints stays safe."""
import collections
import os

import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmdet_odconv  # noqa: F401  (registers the allow-list)
from mmdet_odconv.utils import safe_torch_load


def test_mmengine_message_hub_round_trips_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('safe_load_test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('iter', 3)
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': hub.state_dict(),
                'meta': {'iter': 3}}, path)
    ck = torch.load(path, map_location='cpu')  # weights_only by default
    buf = ck['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer) and buf.current() == 1.5


class _GetattrPayload:
    """Pickles as getattr(<allowed class>, <not a statistics method>)."""

    def __reduce__(self):
        return (getattr, (collections.OrderedDict, 'fromkeys'))


class _HistoryBufferOther:

    def __reduce__(self):
        return (getattr, (HistoryBuffer, 'update'))


@pytest.mark.parametrize('payload', [_GetattrPayload, _HistoryBufferOther])
def test_getattr_is_only_allowed_for_history_buffer_statistics(
        tmp_path, payload):
    path = tmp_path / 'evil.pth'
    torch.save({'x': payload()}, path)
    with pytest.raises(Exception, match='only HistoryBuffer statistics'):
        torch.load(path, map_location='cpu')
    with pytest.raises(ValueError, match='weights_only=True'):
        safe_torch_load(str(path))


def test_arbitrary_classes_are_refused(tmp_path):
    path = tmp_path / 'obj.pth'
    torch.save({'x': os.stat_result((0, ) * 10)}, path)
    with pytest.raises(ValueError, match='could not be loaded'):
        safe_torch_load(str(path))
