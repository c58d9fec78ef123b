"""collect_results: the table of several work dirs' COCO metrics."""
import json
import os

import pytest

from tools.analysis_tools.collect_results import main


def _work_dir(tmp_path, ap):
    run = tmp_path / 'work' / '20260101_000000'
    run.mkdir(parents=True)
    log = run / '20260101_000000.json'
    log.write_text(json.dumps({'coco/bbox_mAP': ap}) + '\n')
    return tmp_path / 'work', log


def test_out_never_overwrites_a_log_it_reads(tmp_path, capsys):
    work, log = _work_dir(tmp_path, 0.5)
    before = log.read_text()
    os.link(log, tmp_path / 'alias.json')
    for out in (log, tmp_path / 'alias.json'):
        with pytest.raises(SystemExit):
            main([str(work), '--out', str(out)])
        assert 'is the metrics log this command reads' in \
            capsys.readouterr().err
    assert log.read_text() == before
    assert main([str(work), '--out', str(tmp_path / 'table.md')]) == 0
    assert '| 50.0 |' in (tmp_path / 'table.md').read_text()


def test_out_in_a_new_folder_is_written_and_below_a_file_refused(
        tmp_path, capsys):
    """Checked before anything is read: a file where a folder should be
    is named; a missing folder is created."""
    work, _ = _work_dir(tmp_path, 0.5)
    blocker = tmp_path / 'a-file'
    blocker.write_text('')
    with pytest.raises(SystemExit):
        main([str(work), '--out', str(blocker / 'table.md')])
    assert 'is a file, not a folder' in capsys.readouterr().err
    out = tmp_path / 'new' / 'dir' / 'table.md'
    assert main([str(work), '--out', str(out)]) == 0
    assert '| 50.0 |' in out.read_text()
