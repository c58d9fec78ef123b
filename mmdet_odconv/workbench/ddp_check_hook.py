"""Check that data-parallel ranks hold identical parameters."""
import torch
from mmengine.dist import all_gather, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DDPConsistencyHook(Hook):
    """After every ``interval`` training iterations, compare a per-tensor
    checksum of all parameters across ranks and raise if they differ.

    A debugging aid (one small all-gather per check): if gradients were not
    synchronised, ranks fed different data would drift apart at once.

    Args:
        interval (int): Check every this many iterations. Defaults to 1.
        rtol (float): Relative tolerance of the checksums. Defaults to 0,
            i.e. bitwise equal, which DDP gives.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1, rtol: float = 0.0) -> None:
        self.interval = interval
        self.rtol = rtol
        self.checks = 0

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if get_world_size() < 2 or not self.every_n_train_iters(
                runner, self.interval):
            return
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        sums = torch.stack([
            p.detach().double().sum() for p in model.parameters()
        ]).cpu()
        gathered = all_gather(sums)
        for rank, other in enumerate(gathered[1:], start=1):
            if not torch.allclose(other, gathered[0], rtol=self.rtol,
                                  atol=0.0):
                bad = (other != gathered[0]).nonzero().flatten().tolist()
                names = [n for i, (n, _) in enumerate(
                    model.named_parameters()) if i in bad[:5]]
                raise RuntimeError(
                    f'DDP ranks 0 and {rank} diverged at iteration '
                    f'{runner.iter + 1}: parameters {names} differ')
        self.checks += 1
        runner.logger.debug(f'DDPConsistencyHook: ranks agree at iteration '
                            f'{runner.iter + 1}')
