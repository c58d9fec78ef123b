"""Moved to ``mmdet_odconv.workbench.optim_wrapper`` (a re-export until
``mmdet_odconv/engine/__init__.py`` stops importing it)."""
from ..workbench.optim_wrapper import BF16AutocastOptimWrapper  # noqa: F401
