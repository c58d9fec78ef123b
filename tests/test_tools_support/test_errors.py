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
                                        PretrainedNotFoundError)


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
