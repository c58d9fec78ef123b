"""Apply the temperature a checkpoint was saved at when a runner loads it.

``ODConvTemperatureHook`` writes the current temperature into the meta of
every checkpoint (``meta['odconv_temperature']``); a checkpoint saved
mid-anneal only computes what it computed in training at that value. Our
tools add this hook, so ``tools/test.py``, ``tools/train.py`` (``--resume``
and ``load_from``) and ``tools/demo.py`` apply it whatever hooks the config
has, through the same function the tools that build a model themselves
use (``apply_saved_temperature``).
"""
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ..checkpoints.fit import apply_saved_temperature


@HOOKS.register_module()
class SavedTemperatureHook(Hook):
    """Set the model's ODConv temperature from a loaded checkpoint's meta
    (one log line); checkpoints without it change nothing. A configured
    ``ODConvTemperatureHook`` still sets the value of every training
    iteration."""

    priority = 'LOW'  # after ODConvTemperatureHook, which sets the same

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        source = runner.cfg.get('load_from') or 'the resumed checkpoint'
        apply_saved_temperature(model, checkpoint.get('meta'), source)


def use_saved_temperature(cfg: Config) -> Config:
    """Add :class:`SavedTemperatureHook` to ``cfg.custom_hooks`` (once)."""
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(isinstance(h, dict) and h.get('type') in (
            'SavedTemperatureHook', SavedTemperatureHook) for h in hooks):
        hooks.append(dict(type='SavedTemperatureHook'))
    cfg.custom_hooks = hooks
    return cfg
