"""Save and restore the main process's torch RNG with each checkpoint.

MMEngine re-seeds on resume but does not restore the RNG state, so the
random choices a model makes (e.g. R-CNN's RoI sampling) after a resume
differ from an uninterrupted run. With this hook (and ``randomness`` with a
seed, data workers seeded by MMEngine), a resumed run continues bit for bit:
data-pipeline randomness is replayed by MMEngine's skipping of the already
seen batches, and the model's torch RNG is put back here.

That is exact for iteration-based loops (the demo configs; tested). In
epoch-based loops with ``persistent_workers`` (the COCO configs) it is not:
an uninterrupted run creates the DataLoader iterator once, which draws a
seed from torch's RNG and starts the workers' RNG streams, while a resumed
run creates it again. Weights, optimizer, schedule and temperature still
continue exactly; the random choices after the resume differ.
"""
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

KEY = 'torch_rng_state'


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Store ``torch`` CPU (and CUDA) RNG states in checkpoints; restore
    them when resuming. Under DDP the saving rank's state is restored on
    every rank (with MMEngine's default ``diff_rank_seed=False`` the ranks
    start from the same seed)."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = {'cpu': torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state()
        checkpoint[KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(KEY)
        if not state:
            return
        torch.set_rng_state(state['cpu'].cpu())
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state(state['cuda'].cpu())
