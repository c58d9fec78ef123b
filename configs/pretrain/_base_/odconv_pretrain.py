# What every OD backbone's ImageNet config adds to MMPretrain's: the OD
# backbones (reached from MMPretrain's scope as mmdet.*), the temperature
# hook and DropoutLinearClsHead; and the paper's annealing of the attention
# temperature from 30 to 1 over the first 10 epochs.
custom_imports = dict(
    imports=['mmdet_odconv.pretraining'], allow_failed_imports=False)
custom_hooks = [
    dict(
        type='ODConvTemperatureHook',
        start=30.0,
        end=1.0,
        duration=10,
        by_epoch=True)
]
