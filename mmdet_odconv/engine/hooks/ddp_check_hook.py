"""Moved to ``mmdet_odconv.workbench.ddp_check_hook`` (a re-export until
``mmdet_odconv/engine/hooks/__init__.py`` stops importing it)."""
from ...workbench.ddp_check_hook import DDPConsistencyHook  # noqa: F401
