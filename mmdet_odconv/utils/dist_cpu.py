"""Make MMEngine's distributed launchers work on machines without CUDA."""
import torch
from mmengine.config import Config


def adapt_dist_cfg_for_cpu(cfg: Config) -> Config:
    """Use gloo and a CPU DDP wrapper when launched without CUDA.

    MMDetection's runtime asks for NCCL and MMEngine passes
    ``device_ids=[LOCAL_RANK]`` to DDP, both of which need GPUs. A user's
    explicit ``model_wrapper_cfg`` is left alone.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return cfg
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return cfg
