"""Registry nodes of the ``mmdet_odconv`` scope, children of MMDetection's.

A config inherited through ``mmdet_odconv::`` marks what it defines with
``_scope_='mmdet_odconv'``; MMEngine then imports this module and builds
from these nodes. They hold nothing of their own: a lookup falls through to
MMDetection's node and then MMEngine's root, where this package registers
its modules. Without them MMEngine still builds, but warns at every build
that the scope has no registry. Needs MMDetection; the package's import
does not load this module.
"""
from mmdet import registry as mmdet_registry
from mmdet.utils import register_all_modules
from mmengine.registry import Registry

# MMEngine's lazy import runs only for the node a lookup starts at, not for
# its parents, so MMDetection's modules are registered here once.
register_all_modules(init_default_scope=False)

_SCOPE = 'mmdet_odconv'
_LOCATIONS = ['mmdet_odconv']


def _child(parent: Registry) -> Registry:
    """A node of this scope below one of MMDetection's."""
    return Registry(
        parent.name, parent=parent, scope=_SCOPE, locations=_LOCATIONS)


RUNNERS = _child(mmdet_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmdet_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmdet_registry.LOOPS)
HOOKS = _child(mmdet_registry.HOOKS)
DATASETS = _child(mmdet_registry.DATASETS)
DATA_SAMPLERS = _child(mmdet_registry.DATA_SAMPLERS)
TRANSFORMS = _child(mmdet_registry.TRANSFORMS)
MODELS = _child(mmdet_registry.MODELS)
MODEL_WRAPPERS = _child(mmdet_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmdet_registry.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmdet_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmdet_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmdet_registry.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmdet_registry.PARAM_SCHEDULERS)
METRICS = _child(mmdet_registry.METRICS)
EVALUATOR = _child(mmdet_registry.EVALUATOR)
TASK_UTILS = _child(mmdet_registry.TASK_UTILS)
VISUALIZERS = _child(mmdet_registry.VISUALIZERS)
VISBACKENDS = _child(mmdet_registry.VISBACKENDS)
LOG_PROCESSORS = _child(mmdet_registry.LOG_PROCESSORS)
