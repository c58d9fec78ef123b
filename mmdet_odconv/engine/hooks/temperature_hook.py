"""Anneal ODConv's attention temperature during training.

The official ImageNet recipe starts at 30 and decreases linearly to 1 over
the first 10 epochs; detection fine-tuning keeps 1 (no hook needed).
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...layers.temperature import set_temperature


@HOOKS.register_module()
class ODConvTemperatureHook(Hook):
    """Linearly anneal the temperature from ``start`` to ``end``.

    The temperature is derived from ``runner.iter`` (or ``runner.epoch``)
    before every iteration, never accumulated, so a resumed run continues
    exactly where it stopped.

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
        if not (start > 0 and end > 0):
            raise ValueError(f'temperatures must be > 0, got start={start}, '
                             f'end={end}')
        if duration < 0:
            raise ValueError(f'duration must be >= 0, got {duration}')
        self.start = float(start)
        self.end = float(end)
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
        try:
            per_epoch: Optional[int] = len(runner.train_dataloader)
        except (TypeError, AttributeError):
            per_epoch = None
        if per_epoch:
            return runner.iter / per_epoch
        return float(runner.epoch)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        t = self.temperature_at(self._progress(runner))
        if set_temperature(model, t) == 0 and runner.iter == 0:
            runner.logger.warning('ODConvTemperatureHook: the model has no '
                                  'ODConv layer; the hook does nothing.')
