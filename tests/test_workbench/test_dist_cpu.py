"""DDP on machines without CUDA: gloo, a CPU DDP wrapper without SyncBN,
and launchers that need GPUs refused with the way out."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmdet_odconv.tools_support import LauncherError
from mmdet_odconv.workbench import adapt_dist_cfg_for_cpu


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
@pytest.mark.parametrize('launcher', ['slurm', 'mpi'])
def test_non_torchrun_launchers_without_cuda_point_to_torchrun(launcher):
    with pytest.raises(LauncherError, match='dist_train.sh'):
        adapt_dist_cfg_for_cpu(Config(dict(launcher=launcher)))


def test_cpu_ddp_turns_syncbn_into_bn(tmp_path):
    """torch's DDP refuses SyncBN on CPU modules ('SyncBatchNorm layers
    only work with GPU modules'); RTMDet converts its BNs to SyncBN
    whenever the world is larger than one (use_syncbn=True)."""
    import torch.distributed as dist
    from mmengine.registry import MODEL_WRAPPERS
    if torch.cuda.is_available():
        pytest.skip('CPU behaviour')
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    try:
        cfg = adapt_dist_cfg_for_cpu(Config(dict(launcher='pytorch')))
        model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.SyncBatchNorm(4))
        wrapped = MODEL_WRAPPERS.build(cfg.model_wrapper_cfg,
                                       default_args=dict(module=model))
        assert not any(isinstance(m, nn.SyncBatchNorm)
                       for m in wrapped.modules())
        assert any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                   for m in wrapped.modules())
        wrapped(torch.randn(2, 3, 4, 4)).sum().backward()
    finally:
        dist.destroy_process_group()
