"""What the checks raise: our error classes, which are also the standard
exceptions a caller expects, and no module of the method loads them."""
import subprocess
import sys

import pytest

from mmdet_odconv.checkpoints import CheckpointError
from mmdet_odconv.tools_support import (INPUT_ERRORS, AnnotationFileError,
                                        CheckpointNotFoundError,
                                        DataNotFoundError, LauncherError,
                                        PreflightError,
                                        PretrainedNotFoundError, run_tool)


@pytest.mark.parametrize('error, standard', [
    (DataNotFoundError, FileNotFoundError),
    (CheckpointNotFoundError, FileNotFoundError),
    (PretrainedNotFoundError, FileNotFoundError),
    (AnnotationFileError, ValueError),
    (LauncherError, ValueError),
    (CheckpointError, ValueError),
])
def test_errors_are_standard_exceptions_the_tools_report(error, standard):
    e = error('what is wrong, and the fix')
    assert isinstance(e, standard) and isinstance(e, INPUT_ERRORS)
    assert str(e) == 'what is wrong, and the fix'
    assert not issubclass(error, SystemExit)
    assert issubclass(error, PreflightError) != (error is CheckpointError)


def test_importing_the_method_loads_no_tool_support():
    code = ('import sys, mmdet_odconv; '
            "print([m for m in sys.modules if m.startswith("
            "('mmdet_odconv.tools_support', 'mmdet_odconv.workbench'))])")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == '[]'


def test_run_tool_turns_only_input_errors_into_a_message():
    """Bad input comes back as its message (which ``sys.exit`` prints
    with exit status 1); the tool's result passes through; any other
    exception is a bug and keeps its traceback."""

    def tool(argv):
        if argv == ['missing']:
            raise DataNotFoundError('data/coco: not found; put COCO there')
        if argv == ['misfit']:
            raise CheckpointError('the checkpoint does not fit')
        if argv == ['bug']:
            raise KeyError('bug')
        return 0

    assert run_tool(tool, ['ok']) == 0
    for argv, message in ((['missing'], 'data/coco: not found; put COCO '
                           'there'), (['misfit'],
                                      'the checkpoint does not fit')):
        assert run_tool(tool, argv) == message
    with pytest.raises(KeyError):
        run_tool(tool, ['bug'])
