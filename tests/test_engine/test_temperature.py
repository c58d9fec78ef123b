"""Temperature helpers and the annealing hook."""
from types import SimpleNamespace

import pytest
import torch.nn as nn

from mmdet_odconv import (ODConv2d, ODConvTemperatureHook, get_temperature,
                          set_temperature)


def _model():
    return nn.Sequential(ODConv2d(4, 8, 3), nn.ReLU(), ODConv2d(8, 8, 1))


def test_set_and_get_temperature():
    model = _model()
    assert get_temperature(model) == 1.0
    assert set_temperature(model, 12.5) == 2
    assert all(m.temperature == 12.5 for m in model
               if isinstance(m, ODConv2d))
    assert get_temperature(model) == 12.5
    with pytest.raises(ValueError, match='no ODConv'):
        get_temperature(nn.Linear(2, 2))


class _Runner(SimpleNamespace):
    pass


@pytest.mark.parametrize('by_epoch', [True, False])
def test_hook_anneals_linearly_and_is_stateless(by_epoch):
    model = _model()
    hook = ODConvTemperatureHook(start=30, end=1, duration=10,
                                 by_epoch=by_epoch)
    per_epoch = 4
    runner = _Runner(model=model, iter=0, epoch=0,
                     train_dataloader=[None] * per_epoch, logger=None)
    seen = []
    steps = 10 * (per_epoch if by_epoch else 1) + 3
    for it in range(steps):
        runner.iter = it
        hook.before_train_iter(runner, it)
        seen.append(get_temperature(model))
    assert seen[0] == 30
    # reaches `end` exactly after `duration`, stays there
    assert seen[-3:] == [1, 1, 1] and seen[-4] > 1
    assert all(a > b for a, b in zip(seen[:-3], seen[1:-2]))
    half = 5 * (per_epoch if by_epoch else 1)
    assert seen[half] == pytest.approx(15.5)
    # resuming at any iteration gives the same value (derived, not stored)
    runner.iter = 7
    hook2 = ODConvTemperatureHook(start=30, end=1, duration=10,
                                  by_epoch=by_epoch)
    hook2.before_train_iter(runner, 7)
    assert get_temperature(model) == seen[7]


@pytest.mark.parametrize('kwargs, match', [
    (dict(start=0), 'temperature must be > 0'),
    (dict(end=float('inf')), 'temperature must be > 0 and finite'),
    (dict(start='30'), 'temperature must be > 0'),  # a string from a CLI
    (dict(end=None), 'temperature must be > 0'),
    (dict(duration=-1), 'duration must be a finite number >= 0'),
    (dict(duration=None), 'duration must be a finite number >= 0'),
    (dict(duration=float('inf')), 'duration must be a finite number >= 0'),
    (dict(duration='10'), 'duration must be a finite number >= 0'),
])
def test_hook_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ODConvTemperatureHook(**kwargs)


def test_checkpoints_carry_the_temperature_for_evaluation():
    """A checkpoint saved mid-anneal is evaluated at its temperature."""
    hook = ODConvTemperatureHook(start=30, end=1, duration=10,
                                 by_epoch=False)
    trained = _model()
    runner = _Runner(model=trained, iter=4, epoch=0, train_dataloader=None,
                     logger=None)
    hook.before_train_iter(runner, 4)
    checkpoint = {'meta': {}}
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['meta']['odconv_temperature'] == pytest.approx(18.4)
    fresh = _model()  # as tools/test.py builds it: temperature 1
    hook.after_load_checkpoint(_Runner(model=fresh), checkpoint)
    assert get_temperature(fresh) == pytest.approx(18.4)
    hook.after_load_checkpoint(_Runner(model=fresh), {})  # old checkpoint
    assert get_temperature(fresh) == pytest.approx(18.4)


def test_epochs_of_an_infinite_sampler_count_per_rank(monkeypatch):
    """In an iteration-based loop an epoch is the dataset split over the
    ranks; InfiniteSampler's length is the whole dataset on every rank."""
    import torch
    from mmengine.dataset import InfiniteSampler
    from mmdet_odconv.engine.hooks import temperature_hook
    dataset = list(range(80))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=2, sampler=InfiniteSampler(dataset, seed=0))
    monkeypatch.setattr(temperature_hook, 'get_world_size', lambda: 4)
    runner = _Runner(model=_model(), iter=0, epoch=0,
                     train_dataloader=loader, logger=None)
    assert ODConvTemperatureHook._iters_per_epoch(runner) == 10
