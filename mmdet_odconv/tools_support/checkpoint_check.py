"""The tools' checks of the checkpoints a config will load.

MMEngine loads ``load_from``, ``--resume`` and test checkpoints with
``strict=False``, so a checkpoint of another config gives the metrics of a
partly random model. Before their runner is built, our tools load the
checkpoint the runner will load into a throwaway model
(:func:`mmdet_odconv.checkpoints.load_checkpoint_into`) and stop with the
keys and the likely cause unless partial loading was asked for; local
``init_cfg`` checkpoints (pretrained backbones) must exist.
"""
import os.path as osp
from typing import Any, List, Optional, Tuple

from mmengine.config import Config

from ..checkpoints.files import is_remote
from ..checkpoints.fit import load_checkpoint_into
from .config import build_detector
from .errors import CheckpointNotFoundError, PretrainedNotFoundError

ALLOW_PARTIAL_KEY = 'allow_partial_load'
PARTIAL_HINT = (
    'If partial loading is what you want (e.g. fine-tuning on another set '
    'of classes), pass --allow-partial-load (or set '
    f'{ALLOW_PARTIAL_KEY} = True in the config).')


def checkpoint_to_load(cfg: Config) -> Optional[str]:
    """The checkpoint an MMEngine runner built from ``cfg`` will load.

    ``load_from``, or with ``resume=True`` and no ``load_from`` the latest
    checkpoint in the work dir (None if there is none, as MMEngine).
    """
    if cfg.get('resume', False) and cfg.get('load_from') is None:
        from mmengine.runner import find_latest_checkpoint
        work_dir = cfg.get('work_dir')
        return find_latest_checkpoint(work_dir) if work_dir else None
    return cfg.get('load_from')


def check_checkpoint(cfg: Config, path: Optional[str] = None) -> None:
    """Raise, naming the keys and the likely cause, if a checkpoint misfits.

    For the tools, before their runner is built. ``path`` defaults to what
    the runner will load (:func:`checkpoint_to_load`); the check loads it
    into a throwaway model. Skipped when the config sets
    ``allow_partial_load=True`` (the tools' ``--allow-partial-load``). A
    missing file, or one that is not a checkpoint, stops here too. Static
    or one-kernel weights that ODConv inflates fit, except for a resumed
    run (``resume=True``), which must continue the same model.

    Raises:
        CheckpointNotFoundError: if a local checkpoint is not on disk.
        CheckpointError: if it is not a checkpoint or does not fit.
    """
    auto = path is None and cfg.get('resume') and not cfg.get('load_from')
    path = path or checkpoint_to_load(cfg)
    if not path or cfg.get(ALLOW_PARTIAL_KEY, False):
        return
    if not is_remote(path) and not osp.exists(path):
        note = (f' (named in {osp.join(cfg.work_dir, "last_checkpoint")} '
                'for --resume; give the checkpoint as --resume PATH, or '
                'delete that file to start afresh)' if auto else '')
        raise CheckpointNotFoundError(f'checkpoint not found: {path}{note}')
    load_checkpoint_into(
        build_detector(cfg),
        path,
        cfg.filename or 'the config',
        advice=PARTIAL_HINT,
        resume=bool(cfg.get('resume', False)),
        apply_temperature=False)  # the runner's own model gets it


# --------------------------------------------------------------------------
# Pretrained (init_cfg) checkpoints
# --------------------------------------------------------------------------
CONVERT_HINT = (
    'Convert the official ImageNet weights with\n'
    '  python tools/model_converters/odconv_official_to_mmdet.py SRC {path} '
    '--config CONFIG\n'
    'or start from torchvision\'s static ResNet weights (inflated into the '
    'ODConv kernel bank) with\n'
    '  --cfg-options {key}=torchvision://resnet50   (resnet101 for R101)\n'
    'or train the backbone from scratch with --cfg-options {parent}=None')


def missing_init_checkpoints(cfg: Config) -> List[Tuple[str, str]]:
    """(config key, path) of local ``init_cfg`` checkpoints not on disk.

    Remote ones (``torchvision://``, ``https://``, ``open-mmlab://``, ...)
    are not checked.
    """
    found: List[Tuple[str, str]] = []

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            ckpt = node.get('checkpoint')
            if (key.endswith('init_cfg') and isinstance(ckpt, str)
                    and not is_remote(ckpt) and not osp.isfile(ckpt)):
                found.append((f'{key}.checkpoint', ckpt))
            for k, v in node.items():
                walk(v, f'{key}.{k}')
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                # a list of init_cfgs keeps the init_cfg name for its items
                walk(v, key if key.endswith('init_cfg') else f'{key}.{i}')

    walk(cfg.get('model'), 'model')
    return found


def check_init_checkpoints(cfg: Config) -> None:
    """Raise :class:`PretrainedNotFoundError`, naming the file and the
    fix, if a pretrained checkpoint that ``init_cfg`` points to is not on
    disk (before anything is built)."""
    missing = missing_init_checkpoints(cfg)
    if not missing:
        return
    lines = ['Pretrained checkpoint(s) in the config not found:']
    lines += [f'  {path} ({key})' for key, path in missing]
    key, path = missing[0]
    lines.append(
        CONVERT_HINT.format(
            path=path, key=key, parent=key.rsplit('.checkpoint', 1)[0]))
    raise PretrainedNotFoundError('\n'.join(lines))
