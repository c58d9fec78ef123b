"""Anneal ODConv's attention temperature during training.

The official ImageNet recipe starts at 30 and decreases linearly to 1 over
the first 10 epochs; detection fine-tuning keeps 1 (no hook needed).
"""
import math
from typing import Optional

from mmengine.dataset import InfiniteSampler
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...layers._args import check_temperature
from ...layers.temperature import get_temperature, set_temperature

META_KEY = 'odconv_temperature'


@HOOKS.register_module()
class ODConvTemperatureHook(Hook):
    """Linearly anneal the temperature from ``start`` to ``end``.

    The temperature is derived from ``runner.iter`` (or ``runner.epoch``)
    before every iteration, never accumulated, so a resumed run continues
    exactly where it stopped. Checkpoints record the current temperature
    (``meta['odconv_temperature']``) and loading one restores it, so
    ``tools/test.py`` evaluates a checkpoint saved mid-anneal at the
    temperature it was trained with.

    Args:
        start (float): Temperature at the beginning. Defaults to 30.
        end (float): Temperature after annealing. Defaults to 1.
        duration (int): Annealing length in epochs (``by_epoch=True``) or
            iterations. Defaults to 10.
        by_epoch (bool): Count ``duration`` in epochs; within an epoch the
            value still moves every iteration when the epoch length is known.
            Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(self,
                 start: float = 30.0,
                 end: float = 1.0,
                 duration: int = 10,
                 by_epoch: bool = True) -> None:
        self.start = check_temperature(start)
        self.end = check_temperature(end)
        if isinstance(duration, bool) or not isinstance(
                duration, (int, float)) or not 0 <= duration < math.inf:
            raise ValueError('duration must be a finite number >= 0 (epochs '
                             f'or iterations), got {duration!r}')
        self.duration = duration
        self.by_epoch = by_epoch

    def temperature_at(self, progress: float) -> float:
        """Temperature after ``progress`` epochs or iterations."""
        if self.duration == 0 or progress >= self.duration:
            return self.end
        frac = max(progress, 0.0) / self.duration
        return self.start + (self.end - self.start) * frac

    def _progress(self, runner) -> float:
        if not self.by_epoch:
            return float(runner.iter)
        per_epoch = self._iters_per_epoch(runner)
        if per_epoch:
            return runner.iter / per_epoch
        return float(runner.epoch)

    @staticmethod
    def _iters_per_epoch(runner) -> Optional[int]:
        """Iterations per epoch on this rank, if the loader says."""
        loader = runner.train_dataloader
        try:
            n: Optional[int] = len(loader)
        except (TypeError, AttributeError):
            return None
        if isinstance(getattr(loader, 'sampler', None), InfiniteSampler):
            # its length is the whole dataset on every rank
            n = math.ceil(n / get_world_size())
        return n

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        try:
            t = get_temperature(self._model(runner))
        except ValueError:  # no ODConv layer
            return
        checkpoint.setdefault('meta', {})[META_KEY] = t

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        t = checkpoint.get('meta', {}).get(META_KEY)
        if t is not None:
            set_temperature(self._model(runner), float(t))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None):
        model = self._model(runner)
        t = self.temperature_at(self._progress(runner))
        if set_temperature(model, t) == 0 and runner.iter == 0:
            runner.logger.warning('ODConvTemperatureHook: the model has no '
                                  'ODConv layer; the hook does nothing.')
