"""SavedTemperatureHook: a loaded checkpoint's saved ODConv temperature is
applied to the runner's model."""
from types import SimpleNamespace

import torch.nn as nn
from mmengine.config import Config

from mmdet_odconv import ODConv2d, get_temperature
from mmdet_odconv.workbench import SavedTemperatureHook


def test_saved_temperature_hook_sets_the_runner_model():
    model = nn.Sequential(ODConv2d(4, 4, 3, padding=1))
    runner = SimpleNamespace(model=model, cfg=Config(dict(load_from='x')))
    SavedTemperatureHook().after_load_checkpoint(runner, {'meta': {}})
    assert get_temperature(model) == 1.0
    SavedTemperatureHook().after_load_checkpoint(
        runner, {'meta': {'odconv_temperature': 7.0}})
    assert get_temperature(model) == 7.0
