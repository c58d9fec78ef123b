"""Runtime utilities: safe checkpoint loading, dataset checks."""
from .config import load_config
from .data_check import check_data, missing_data
from .dist_cpu import adapt_dist_cfg_for_cpu
from .runtime import setup_runtime, tune_cpu_allocator
from .safe_load import register_safe_globals, safe_torch_load

__all__ = [
    'register_safe_globals', 'safe_torch_load', 'check_data', 'missing_data',
    'adapt_dist_cfg_for_cpu', 'setup_runtime', 'load_config',
    'tune_cpu_allocator'
]
