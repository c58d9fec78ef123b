"""Make MMEngine's distributed launchers work on machines without CUDA."""
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS

from ..tools_support.errors import LauncherError

CPU_WRAPPER = 'CPUDistributedDataParallel'


def adapt_dist_cfg_for_cpu(cfg: Config) -> Config:
    """Use gloo and a CPU DDP wrapper when launched without CUDA.

    MMDetection's runtime asks for NCCL, MMEngine's ``init_dist`` calls
    ``torch.cuda.set_device`` and passes ``device_ids=[LOCAL_RANK]`` to DDP,
    all of which need GPUs. For the ``pytorch`` launcher (torchrun) we start
    the gloo process group ourselves, which MMEngine then reuses, and wrap
    the model in :class:`CPUDistributedDataParallel`, which turns SyncBN
    (configs' ``SyncBN``, RTMDet's default ``use_syncbn=True``) into BN,
    since torch's SyncBN runs on GPUs only; the slurm and mpi launchers
    raise :class:`LauncherError`, pointing to torchrun. A user's explicit
    ``model_wrapper_cfg`` is left alone.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return cfg
    if cfg.launcher != 'pytorch':
        raise LauncherError(
            f'--launcher {cfg.launcher} needs CUDA (MMEngine derives each '
            'process\'s device from the GPU count); on machines without '
            'GPUs start the processes with torchrun: '
            'bash tools/dist_train.sh CONFIG NUM_PROCESSES '
            '(or --launcher pytorch).')
    import torch.distributed as dist
    if dist.is_available() and not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    env_cfg = dict(cfg.get('env_cfg') or {})
    env_cfg['dist_cfg'] = dict(env_cfg.get('dist_cfg') or {}, backend='gloo')
    cfg.env_cfg = env_cfg
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type=CPU_WRAPPER,
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return cfg


def revert_sync_batchnorm_logged(module: nn.Module) -> nn.Module:
    """``module`` with every SyncBN turned into BN (MMEngine's
    ``revert_sync_batchnorm``), saying so in one log line if any was."""
    count = sum('SyncBatchNorm' in type(m).__name__  # torch's and MMCV's
                for m in module.modules())
    if not count:
        return module
    from mmengine.logging import print_log
    print_log(
        f'CPU DDP: {count} SyncBatchNorm layers became BatchNorm '
        '(torch\'s SyncBatchNorm runs on GPUs only); each process '
        'normalises with its own batch', logger='current')
    return revert_sync_batchnorm(module)


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """MMEngine's DDP wrapper for CPU processes: SyncBN becomes BN first
    (:func:`revert_sync_batchnorm_logged`)."""

    def __init__(self, module: nn.Module, **kwargs) -> None:
        super().__init__(module=revert_sync_batchnorm_logged(module),
                         **kwargs)
