"""Config loading and detector building shared by our tools: the one
place a tool builds a detector from a config."""
import os.path as osp
from typing import Optional, Union

import torch.nn as nn
from mmengine.config import Config


def load_config(path: str,
                launcher: str = 'none',
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """``Config.fromfile`` plus ``--launcher``, ``--cfg-options`` and
    ``--work-dir`` as MMDetection's tools apply them (work dir: command
    line, else the config's, else ``work_dirs/<config name>``)."""
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def build_detector(config: Union[str, Config],
                   cfg_options: Optional[dict] = None,
                   checkpoint: Optional[str] = None,
                   allow_partial: bool = False,
                   advice: str = '') -> nn.Module:
    """The detector of a config (or config path), on the CPU, in eval mode.

    Built as MMEngine's runner builds it (the config's default scope, a
    top-level ``data_preprocessor``), without pretrained ``init_cfg``
    weights; SyncBN becomes BN so it runs in one process. ``checkpoint``
    (a path or URL) is loaded and must fit the model unless
    ``allow_partial``: else :class:`CheckpointError` names the keys, the
    likely cause and ``advice`` (what the calling tool accepts to load it
    anyway; nothing by default). Static or one-kernel weights that ODConv
    inflates fit, and the temperature the checkpoint was saved at is
    applied. The config is kept as ``model.cfg``, as MMDetection's
    ``init_detector`` does, for ``inference_detector``.
    """
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import MODELS, init_default_scope

    from ..checkpoints.fit import load_checkpoint_into
    cfg = load_config(
        config, cfg_options=cfg_options) if isinstance(config, str) else config
    if isinstance(config, Config) and cfg_options:
        cfg = cfg.copy()
        cfg.merge_from_dict(cfg_options)
    scope = cfg.get('default_scope', 'mmdet')
    if scope is not None:
        init_default_scope(scope)
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = revert_sync_batchnorm(MODELS.build(model_cfg))
    model.cfg = cfg
    if checkpoint:
        load_checkpoint_into(model, checkpoint, cfg.filename or 'the config',
                             allow_partial, advice)
    return model.eval()
