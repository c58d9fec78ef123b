"""Moved to ``mmdet_odconv.workbench.rng_state_hook`` (a re-export until
``mmdet_odconv/engine/hooks/__init__.py`` stops importing it)."""
from ...workbench.rng_state_hook import RNGStateHook  # noqa: F401
