"""The errors of a tool's input.

The checks raise these, so they can be called from scripts and notebooks;
a tool's ``main`` catches ``INPUT_ERRORS`` and turns them into one printed
message and exit status 1.
"""
from ..checkpoints.fit import CheckpointError


class PreflightError(Exception):
    """Input a tool was given that cannot be used; the message says what
    is wrong and how to fix it."""


class DataNotFoundError(PreflightError, FileNotFoundError):
    """Dataset files a config needs are not on disk."""


class AnnotationFileError(PreflightError, ValueError):
    """A COCO annotation file that is truncated or malformed."""


class CheckpointNotFoundError(PreflightError, FileNotFoundError):
    """A checkpoint (to test, resume or start from) is not on disk."""


class PretrainedNotFoundError(PreflightError, FileNotFoundError):
    """A local ``init_cfg`` checkpoint (pretrained backbone) is missing."""


class LauncherError(PreflightError, ValueError):
    """A distributed launcher that cannot run on this machine."""


# what a tool's main reports as a message instead of a traceback
INPUT_ERRORS = (PreflightError, CheckpointError)
