"""weights_only loading of MMEngine checkpoints stays safe."""
import collections
import os

import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmdet_odconv  # noqa: F401  (registers the allow-list)
from mmdet_odconv.checkpoints import safe_torch_load


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
    # weights_only loading refuses it on every torch (the default since
    # torch 2.6, so also MMEngine's bare torch.load); since torch 2.4 it is
    # our registered getattr that refuses, before, torch's fixed allow-list.
    with pytest.raises(Exception) as refused:
        torch.load(path, map_location='cpu', weights_only=True)
    if hasattr(torch.serialization, 'add_safe_globals'):
        assert 'only HistoryBuffer statistics' in str(refused.value)
    with pytest.raises(ValueError, match='weights_only=True'):
        safe_torch_load(str(path))


def test_arbitrary_classes_are_refused(tmp_path):
    path = tmp_path / 'obj.pth'
    torch.save({'x': os.stat_result((0, ) * 10)}, path)
    with pytest.raises(ValueError, match='could not be loaded'):
        safe_torch_load(str(path))


def _zip_checkpoint(tmp_path):
    path = tmp_path / 'ok.pth'
    torch.save({'w': torch.zeros(1000)}, path)
    return path.read_bytes()


@pytest.mark.parametrize('make, what', [
    (lambda p: b'<!DOCTYPE html>\n<html><head><title>Sign in</title>',
     'an HTML page'),
    (lambda p: b'\n<html lang="en"><body>Bad gateway</body></html>',
     'an HTML page'),
    (lambda p: b'version https://git-lfs.github.com/spec/v1\noid sha256:0',
     'a Git LFS pointer'),
    (lambda p: b'garbage\n', "a text file (it starts with 'garbage')"),
    (lambda p: bytes(range(7, 200)), 'neither a zip archive nor a pickle'),
    (lambda p: b'', 'an empty file'),
    (lambda p: _zip_checkpoint(p)[:3000], 'a zip archive cut short'),
])
def test_files_that_are_not_checkpoints_are_named(tmp_path, make, what):
    """Not pickle's internals ('Unsupported operand 103', 'invalid load
    key'): the error names the file and what it is instead."""
    data = make(tmp_path)
    path = tmp_path / 'model.pth'
    path.write_bytes(data)
    with pytest.raises(ValueError) as e:
        safe_torch_load(str(path))
    assert str(e.value).startswith(
        f'{path} is not a PyTorch checkpoint: it is {what}')


def test_a_folder_and_a_cut_legacy_checkpoint_are_named(tmp_path):
    with pytest.raises(ValueError, match='is not a PyTorch checkpoint: it '
                       'is a folder'):
        safe_torch_load(str(tmp_path))
    legacy = tmp_path / 'legacy.pth'
    torch.save({'w': torch.zeros(1000)}, legacy,
               _use_new_zipfile_serialization=False)
    assert safe_torch_load(str(legacy))['w'].shape == (1000, )
    legacy.write_bytes(legacy.read_bytes()[:300])
    with pytest.raises(ValueError, match='not a complete PyTorch checkpoint'
                       '.*cut short'):
        safe_torch_load(str(legacy))
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        safe_torch_load(str(tmp_path / 'none.pth'))


class _SystemPayload:

    def __reduce__(self):
        return (os.system, ('echo should-not-run', ))


@pytest.fixture(params=['allow-list', 'torch<2.4'])
def load_path(request, monkeypatch):
    """Run a test through torch's extensible allow-list and through our
    own unpickler, the path taken on torch < 2.4 (simulated here where
    torch is newer)."""
    if request.param == 'torch<2.4':
        monkeypatch.delattr(torch.serialization, 'add_safe_globals',
                            raising=False)
    return request.param


def test_mmengine_checkpoint_loads_on_every_torch(tmp_path, load_path):
    import numpy as np
    hub = MessageHub.get_instance('safe_load_every_torch')
    hub.update_scalar('train/loss', 1.5)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1,
                          momentum=0.9)
    opt.step()
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2, 4])  # a Counter
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': hub.state_dict(), 'optimizer': opt.state_dict(),
                'param_schedulers': [sched.state_dict()],
                'meta': {'arr': np.arange(3), 'f': np.float64(2.0),
                         'dtype': np.dtype('float32')},
                'state_dict': {'w': torch.ones(2, 3)}}, path)
    ck = safe_torch_load(str(path))
    assert ck['message_hub']['log_scalars']['train/loss'].current() == 1.5
    assert ck['meta']['arr'].tolist() == [0, 1, 2]
    assert ck['meta']['dtype'] == np.dtype('float32')
    assert torch.equal(ck['state_dict']['w'], torch.ones(2, 3))
    assert ck['param_schedulers'][0]['milestones'] == {2: 1, 4: 1}


@pytest.mark.parametrize('payload', [_SystemPayload, _GetattrPayload,
                                     _HistoryBufferOther])
def test_code_in_a_checkpoint_is_refused_on_every_torch(tmp_path, capfd,
                                                        load_path, payload):
    path = tmp_path / 'evil.pth'
    torch.save({'x': payload()}, path)
    with pytest.raises(ValueError, match='could not be loaded'):
        safe_torch_load(str(path))
    assert 'should-not-run' not in capfd.readouterr().out
