"""set_temperature / get_temperature reach every ODConv of a model, however
its modules are named and whatever wraps it."""
import pytest
import torch.nn as nn

from mmdet_odconv import ODConv2d, get_temperature, set_temperature


def _oddly_named() -> nn.Module:
    """ODConvs under names a wrapper or the layer itself also uses."""
    net = nn.Module()
    net.module = ODConv2d(4, 4, 3)  # as DDP's child, but not a wrapper
    net.head = ODConv2d(4, 4, 1)
    net.blocks = nn.ModuleDict({
        'attention': nn.Sequential(ODConv2d(4, 4, 3)),
        'module': ODConv2d(4, 4, 3),
    })
    return net


def _layers(model):
    return [m for m in model.modules() if isinstance(m, ODConv2d)]


def test_every_layer_is_reached_whatever_its_name():
    net = _oddly_named()
    assert set_temperature(net, 7.0) == 4 == len(_layers(net))
    assert all(m.temperature == 7.0 for m in _layers(net))
    assert get_temperature(net) == 7.0
    net.head.set_temperature(2.0)
    with pytest.raises(ValueError, match=r'\[2.0, 7.0\]'):
        get_temperature(net)


def test_through_a_wrapper_and_shared_layers_once():
    """A wrapper (DataParallel here, DDP alike) holds the model as a child:
    the walk goes through it; a layer registered twice counts once."""
    net = _oddly_named()
    net.again = net.head
    wrapped = nn.DataParallel(net)
    assert set_temperature(wrapped, 3.0) == 4
    assert get_temperature(wrapped) == 3.0
    assert all(m.temperature == 3.0 for m in _layers(net))


def test_model_without_odconv():
    assert set_temperature(nn.Sequential(nn.Conv2d(3, 3, 1)), 2.0) == 0
    with pytest.raises(ValueError, match='no ODConv layer'):
        get_temperature(nn.Sequential(nn.Conv2d(3, 3, 1)))
