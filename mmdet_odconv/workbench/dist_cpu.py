"""Make MMEngine's distributed launchers work on machines without CUDA."""
import torch
from mmengine.config import Config


def adapt_dist_cfg_for_cpu(cfg: Config) -> Config:
    """Use gloo and a CPU DDP wrapper when launched without CUDA.

    MMDetection's runtime asks for NCCL, MMEngine's ``init_dist`` calls
    ``torch.cuda.set_device`` and passes ``device_ids=[LOCAL_RANK]`` to DDP,
    all of which need GPUs. For the ``pytorch`` launcher (torchrun) we start
    the gloo process group ourselves, which MMEngine then reuses; the slurm
    and mpi launchers stop with a message pointing to torchrun. A user's
    explicit ``model_wrapper_cfg`` is left alone.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return cfg
    if cfg.launcher != 'pytorch':
        raise SystemExit(
            f'--launcher {cfg.launcher} needs CUDA (MMEngine derives each '
            'process\'s device from the GPU count); on machines without '
            'GPUs start the processes with torchrun: '
            'bash tools/dist_train.sh CONFIG NUM_PROCESSES '
            '(or --launcher pytorch).')
    import torch.distributed as dist
    if dist.is_available() and not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return cfg
