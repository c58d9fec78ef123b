"""Old import path of the tools' helpers, kept for callers not yet moved.

The helpers live in :mod:`mmdet_odconv.tools_support` (config loading,
``build_detector``, the pre-flight checks) and
:mod:`mmdet_odconv.checkpoints` (``CheckpointError``, safe loading); new
code imports them from there.
"""
from ..checkpoints import CheckpointError, safe_torch_load
from ..tools_support import build_detector, load_config

__all__ = ['CheckpointError', 'safe_torch_load', 'build_detector',
           'load_config']
