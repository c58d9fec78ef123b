"""Small shims over torch APIs that changed between the versions we support.

torch 2.4 made the autocast queries device-generic
(``torch.is_autocast_enabled(device_type)``, ``torch.get_autocast_dtype``);
MMDetection 3.x users on prebuilt mmcv 2.1 wheels run torch 2.0-2.1, where
only the per-device functions exist. The choice is made once, at import, so
the layer's forward stays free of try/except (and of graph breaks).
"""
import torch

NEW_AUTOCAST_API = hasattr(torch, 'get_autocast_dtype')


def _legacy_autocast_enabled(device_type: str) -> bool:
    if device_type == 'cpu':
        return torch.is_autocast_cpu_enabled()
    if device_type == 'cuda':
        return torch.is_autocast_enabled()
    return False


def _legacy_autocast_dtype(device_type: str) -> torch.dtype:
    if device_type == 'cpu':
        return torch.get_autocast_cpu_dtype()
    return torch.get_autocast_gpu_dtype()


# Whether torch.export (and so the dynamo-based ONNX exporter) is recording
# a graph; older torch versions lack the query.
is_exporting = getattr(getattr(torch, 'compiler', None), 'is_exporting',
                       lambda: False)
# Whether dynamo (torch.compile, torch.export) is tracing; every dynamo
# version folds this query to a constant, unlike torch.jit.is_tracing.
try:
    from torch.compiler import is_compiling
except ImportError:  # torch < 2.3
    from torch._dynamo import is_compiling

if NEW_AUTOCAST_API:
    autocast_enabled = torch.is_autocast_enabled
    autocast_dtype = torch.get_autocast_dtype
else:  # torch < 2.4
    autocast_enabled = _legacy_autocast_enabled
    autocast_dtype = _legacy_autocast_dtype
