"""Official ImageNet checkpoints convert and load strictly; bad input gets a
one-line error; converted files get the permissions torch.save gives."""
import os
import re
import stat
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from mmengine.registry import init_default_scope

from mmdet_odconv.checkpoints import convert_official_checkpoint, save_atomic
from mmdet_odconv.models import ODMobileNetV2, ODResNet
from tests.test_checkpoints.test_official_layout import (
    mobilenet_v2, random_state, reference_backbone, resnet50)
from tools.model_converters.odconv_official_to_mmdet import main as cli

R50_1X = 'configs/odconv/faster-rcnn_r50-odconv1x_fpn_1x_coco.py'
R50_4X = 'configs/odconv/faster-rcnn_r50-odconv4x_fpn_1x_coco.py'
TOOL = 'tools/model_converters/odconv_official_to_mmdet.py'


def _save_official(entries, path, seed=0):
    """As the official main.py saves: DataParallel prefix, training state;
    returns the state without the prefix."""
    state = random_state(entries, seed)
    torch.save(
        {
            'epoch': 120,
            'arch': 'od_resnet50',
            'state_dict': OrderedDict(
                ('module.' + k, v) for k, v in state.items()),
            'best_acc1': torch.tensor(78.5),
            'optimizer': {}
        }, path)
    return state


def _check_converted(out, entries, state, backbone, kind):
    """The converter's keys are the ones this test names; the backbone
    computes the official forward."""
    by_hand = {ours: state[k] for k, ours, _, _ in entries if ours}
    assert out.keys() == by_hand.keys()
    assert all(torch.equal(out[k], v) for k, v in by_hand.items())
    backbone.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = backbone(x)
    ref = reference_backbone(state, kind, x)
    assert len(feats) == len(ref) == 4
    for got, want in zip(feats, ref):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('kernel_num', [1, 4])
def test_official_od_resnet50_converts_and_computes_the_same(
        tmp_path, kernel_num):
    entries = resnet50(kernel_num)
    src = tmp_path / f'od_resnet50_{kernel_num}x.pth.tar'
    state = _save_official(entries, src)
    target = ODResNet(depth=50, odconv=dict(kernel_num=kernel_num))
    out = convert_official_checkpoint(str(src), target)
    assert not any(k.startswith(('fc.', 'module.')) for k in out)
    _check_converted(out, entries, state, target, 'r50')


@pytest.mark.parametrize('kernel_num', [0, 4])
def test_official_mobilenetv2_converts_and_computes_the_same(
        tmp_path, kernel_num):
    from mmdet.models.backbones import MobileNetV2
    entries = mobilenet_v2(kernel_num)
    src = tmp_path / 'mobilenetv2.pth.tar'
    state = _save_official(entries, src)
    target = (
        ODMobileNetV2(odconv=dict(
            kernel_num=kernel_num)) if kernel_num else MobileNetV2())
    out = convert_official_checkpoint(str(src), target)
    _check_converted(out, entries, state, target, 'mobilenetv2')
    if kernel_num:
        with pytest.raises(ValueError, match='kernel_num=4 .*kernel_num=1'):
            convert_official_checkpoint(
                str(src), ODMobileNetV2(odconv=dict(kernel_num=1)))
        with pytest.raises(ValueError,
                           match=r'(?s)another shape.*conv1\.conv\.'):
            convert_official_checkpoint(
                str(src),
                ODMobileNetV2(widen_factor=0.5, odconv=dict(kernel_num=4)))


def test_static_resnet_is_pointed_to_init_cfg(tmp_path):
    src = tmp_path / 'resnet50.pth'
    _save_official(resnet50(0), src)
    with pytest.raises(ValueError) as e:
        cli([str(src), str(tmp_path / 'out.pth'), '--config', R50_4X])
    msg = str(e.value)
    assert 'static' in msg and 'need no conversion' in msg
    assert "init_cfg=dict(type='Pretrained', checkpoint='resnet50.pth')" in msg
    assert 'torchvision://resnet50' in msg
    assert not (tmp_path / 'out.pth').exists()
    # the static config takes it (classifier and DataParallel prefix go)
    assert cli([
        str(src),
        str(tmp_path / 'out.pth'), '--config',
        'configs/odconv/faster-rcnn_r50_fpn_1x_coco.py'
    ]) == 0


def test_cli_writes_atomically_and_refuses_bad_files(tmp_path, monkeypatch):
    init_default_scope('mmdet')
    src = tmp_path / 'od_resnet50_1x.pth.tar'
    _save_official(resnet50(1), src)
    dst = tmp_path / 'out' / 'od_r50_1x_mmdet.pth'
    assert cli([str(src), str(dst), '--config', R50_1X]) == 0
    loaded = torch.load(dst, weights_only=True)
    target = ODResNet(depth=50, odconv=dict(kernel_num=1))
    target.load_state_dict(loaded['state_dict'], strict=True)

    # kernel_num mismatch: clear error, no output file
    dst2 = tmp_path / 'out' / 'wrong.pth'
    with pytest.raises(ValueError, match=r'kernel_num=1\) .*odconv1x'):
        cli([str(src), str(dst2), '--config', R50_4X])
    assert not dst2.exists()
    # not a checkpoint at all: an error naming the file
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match=re.escape(str(bad))):
        cli([str(bad), str(dst2), '--config', R50_1X])
    # a pickled object outside the allow-list is refused
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _Evil()}, evil)
    with pytest.raises(ValueError, match=re.escape(str(evil))):
        cli([str(evil), str(dst2), '--config', R50_1X])
    # a failure while writing leaves nothing behind
    monkeypatch.setattr(torch, 'save', _raise)
    with pytest.raises(OSError):
        cli([str(src), str(dst2), '--config', R50_1X])
    assert sorted(os.listdir(tmp_path / 'out')) == ['od_r50_1x_mmdet.pth']


class _Evil:
    pass


def _raise(*args, **kwargs):
    raise OSError('disk full')


def test_paths_are_checked_before_any_work(tmp_path):
    folder = tmp_path / 'downloads'
    folder.mkdir()
    (folder / 'od_resnet50_4x.pth.tar').write_bytes(b'')
    with pytest.raises(
            ValueError,
            match=r'downloads is not a PyTorch checkpoint: it is a folder, '
            r'not a file \(it holds od_resnet50_4x'):
        cli([str(folder), str(tmp_path / 'o.pth'), '--config', R50_1X])
    with pytest.raises(FileNotFoundError,
                       match='checkpoint not found: .*nowhere.pth'):
        cli([
            str(tmp_path / 'nowhere.pth'),
            str(tmp_path / 'o.pth'), '--config', R50_1X
        ])
    a_file = tmp_path / 'a_file'
    a_file.write_text('')
    with pytest.raises(ValueError, match='a_file is a file, not a folder'):
        cli([str(folder), str(a_file / 'sub' / 'o.pth'), '--config', R50_1X])
    with pytest.raises(
            ValueError,
            match='downloads is a directory; give the '
            'output file name'):
        cli([str(a_file), str(folder), '--config', R50_1X])
    assert sorted(os.listdir(tmp_path)) == ['a_file', 'downloads']


def test_command_line_prints_one_line_errors(tmp_path):
    proc = subprocess.run(
        [sys.executable, TOOL,
         str(tmp_path), 'o.pth', '--config', R50_1X],
        capture_output=True,
        text=True)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        'odconv_official_to_mmdet.py: error: '
        f'{tmp_path} is not a PyTorch checkpoint: it is a folder, not a '
        'file; give the checkpoint file itself')


@pytest.mark.parametrize('umask', [0o022, 0o002, 0o077])
def test_save_atomic_gives_the_mode_torch_save_gives(tmp_path, umask):
    old = os.umask(umask)
    try:
        torch.save({'a': 1}, tmp_path / 'reference.pth')
        save_atomic({'a': 1}, str(tmp_path / 'ours.pth'))
        # an existing file keeps its mode, as with torch.save
        existing = tmp_path / 'existing.pth'
        existing.write_bytes(b'')
        os.chmod(existing, 0o640)
        save_atomic({'a': 1}, str(existing))
    finally:
        os.umask(old)

    def mode(name):
        return stat.S_IMODE(os.stat(tmp_path / name).st_mode)

    assert mode('ours.pth') == mode('reference.pth') == 0o666 & ~umask
    assert mode('existing.pth') == 0o640
    assert torch.load(existing, weights_only=True) == {'a': 1}


def test_dst_that_is_the_source_is_refused_however_spelled(tmp_path):
    """A symlink, a hard link or ./a/../a naming SRC as DST: refused before
    anything is loaded; SRC is left as it was."""
    src = tmp_path / 'od_resnet50_1x.pth.tar'
    _save_official(resnet50(1), src)
    before = src.read_bytes()
    os.symlink(src, tmp_path / 'sym.pth')
    os.link(src, tmp_path / 'hard.pth')
    for dst in (tmp_path / 'sym.pth', tmp_path / 'hard.pth',
                f'{tmp_path}/sub/../od_resnet50_1x.pth.tar'):
        with pytest.raises(ValueError, match='is the checkpoint this '
                           'command reads'):
            cli([str(src), str(dst), '--config', R50_1X])
    assert src.read_bytes() == before
