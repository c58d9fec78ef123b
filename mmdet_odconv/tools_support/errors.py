"""The errors of a tool's input.

The checks raise these, so they can be called from scripts and notebooks;
a tool's ``main`` runs through ``run_tool``, which turns ``INPUT_ERRORS``
into the message the tool's ``sys.exit(main())`` prints with exit status 1.
"""
from typing import Any, Callable, List, Optional

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


def run_tool(tool_main: Callable[[Optional[List[str]]], Any],
             argv: Optional[List[str]] = None) -> Any:
    """Return ``tool_main(argv)``, or for bad input (``INPUT_ERRORS``) its
    message as a string.

    Each tool ends with ``sys.exit(main())``, and ``sys.exit`` given a
    string prints it to stderr and exits with status 1: one message, no
    traceback. Returning the message rather than exiting here means the
    library never ends the interpreter of a notebook or test that calls
    a tool's ``main``.
    """
    try:
        return tool_main(argv)
    except INPUT_ERRORS as e:
        return str(e)
